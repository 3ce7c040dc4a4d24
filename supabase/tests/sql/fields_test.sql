-- Field limits (docs/security.md, "Fields"): titles, anime ids, durations and positions, room ids
-- and usernames. Before the trust migration a title or anime id of any length, anime ids with
-- terminal escapes, positions up to 1e308, any room id text and the name "System" were accepted.

select tests.new_user('alice'), tests.new_user('bob');

-- titles and anime ids
do $$
declare
  v jsonb;
begin
  perform tests.act_as('alice');
  perform tests.is(char_length(public.create_room(p_username => 'a', p_media_title => repeat('t', 200)) #>> '{room,media_title}'), 200,
    'a 200-character title is kept');
  perform tests.throws(format('select public.create_room(p_username => %L, p_media_title => %L)', 'a', repeat('t', 201)),
    'PT400', 'INVALID_REQUEST', 'a 201-character title is refused');
  perform tests.is(char_length(public.create_room(p_username => 'a',
      p_media_title => E'\u001b[2J\u001b]0;x\u0007' || repeat('é', 200) || E'\u202e') #>> '{room,media_title}'), 200,
    'the title limit counts characters after cleaning');
  v := public.create_room(p_username => 'a', p_anime_id => E'\u001b[31mani\u001b]0;pwned\u0007me\u202e' || repeat('1', 59));
  perform tests.is(v #>> '{room,anime_id}', 'anime' || repeat('1', 59), 'anime ids are cleaned of escapes like other text, 64 kept');
  perform tests.throws(format('select public.create_room(p_username => %L, p_anime_id => %L)', 'a', repeat('1', 65)),
    'PT400', 'INVALID_REQUEST', 'a 65-character anime id is refused');
  perform tests.set('room', v #>> '{room,room_id}');

  perform tests.act_as_admin();
  perform tests.reset_rates();
  perform tests.act_as('alice');
  perform tests.is(public.create_comment(tests.get('room'), 'hi', null, E'x\u001b[1my') #>> '{comment,anime_id}', 'xy',
    'a comment''s anime id is cleaned');
  perform tests.throws(format('select public.create_comment(%L, %L, null, %L)', tests.get('room'), 'hi', repeat('1', 65)),
    'PT400', 'INVALID_REQUEST', 'a comment''s 65-character anime id is refused');
end $$;

-- durations and positions: 0 … 604800 s
do $$
declare
  v_room text;
  v_bad double precision;
begin
  perform tests.act_as('alice');
  perform tests.is(public.create_room(p_username => 'a', p_media_duration => 604800) -> 'room' -> 'media_duration', '604800'::jsonb,
    'a one-week duration is kept');
  v_room := public.create_room(p_username => 'a') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  foreach v_bad in array array[604800.001, 1e308, 'Infinity', 'NaN', -1, '-Infinity']::double precision[] loop
    perform tests.throws(format('select public.create_room(p_username => %L, p_media_duration => %L)', 'a', v_bad),
      'PT400', 'INVALID_REQUEST', format('media_duration %s is refused', v_bad));
    perform tests.throws(format('select public.control_room(%L, %L, %L)', v_room, 'seek', v_bad),
      'PT400', 'INVALID_REQUEST', format('a control to %s is refused', v_bad));
    perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L)', v_room, to_jsonb(v_bad::numeric), 'true'),
      'PT400', 'INVALID_REQUEST', format('a presence beat at %s is refused', v_bad))
      from (select 1) x where v_bad::text not in ('NaN', 'Infinity', '-Infinity');  -- (JSON has no NaN or infinities)
    perform tests.throws(format('select public.create_comment(%L, %L, %L)', v_room, 'hi', v_bad),
      'PT400', 'INVALID_REQUEST', format('a comment at video_timestamp %s is refused', v_bad));
  end loop;
  perform tests.is(public.control_room(v_room, 'seek', 604800) -> 'room' -> 'current_time', '604800'::jsonb,
    'a control at one week is kept');
  perform public.track_user_presence(v_room, null, '604800', 'false');
  perform tests.is(public.create_comment(v_room, 'end', 604800) -> 'comment' -> 'video_timestamp', '604800'::jsonb,
    'a comment at one week is kept');
end $$;

-- A room that plays on for longer than a week without a control: the position restated at a
-- hand-over stays within the week (and within the CHECK constraint).
do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as('alice');
  perform public.control_room(v_room, 'play', 604000);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform tests.act_as_admin();
  update public.rooms set updated_at = now() - interval '2 days' where room_id = v_room;
  perform tests.act_as('alice');
  perform tests.is(public.leave_room(v_room) -> 'room' -> 'current_time', '604800'::jsonb,
    'a hand-over restates at most one week');
end $$;

do $$
begin
  perform tests.act_as_admin();
  perform tests.throws('update public.rooms set "current_time" = 1e308', '23514', null, 'rooms.current_time is checked by the table');
  perform tests.throws('update public.rooms set media_duration = ''NaN''', '23514', null, 'rooms.media_duration is checked by the table');
  perform tests.throws('update public.room_members set "current_time" = -1', '23514', null, 'room_members.current_time is checked by the table');
  perform tests.throws('update public.comments set video_timestamp = 1e308', '23514', null, 'comments.video_timestamp is checked by the table');
  perform tests.throws(format('update public.rooms set media_title = %L', repeat('t', 201)), '23514', null, 'rooms.media_title is checked by the table');
  perform tests.throws(format('update public.rooms set anime_id = %L', repeat('1', 65)), '23514', null, 'rooms.anime_id is checked by the table');
end $$;

-- room ids: anything but ^[a-z0-9]{10}$ is an unknown room, in every function
do $$
declare
  v_id text;
begin
  perform tests.act_as('bob');
  foreach v_id in array array['ABCDEFGHIJ', 'abc', 'abcdefghijk', '../../../x', 'abcdefghi%', E'abcdefghi\u00e9', '',
                              repeat('a', 100000)] loop
    perform tests.throws(format('select tests.join_room(%L, %L)', v_id, 'bob'), 'PT404', 'ROOM_NOT_FOUND',
      format('join of room id %s', left(v_id, 20)));
    perform tests.throws(format('select public.leave_room(%L)', v_id), 'PT404', 'ROOM_NOT_FOUND',
      format('leave of room id %s', left(v_id, 20)));
    perform tests.throws(format('select public.control_room(%L, %L, 1)', v_id, 'play'), 'PT404', 'ROOM_NOT_FOUND',
      format('control of room id %s', left(v_id, 20)));
    perform tests.throws(format('select public.create_comment(%L, %L)', v_id, 'hi'), 'PT404', 'ROOM_NOT_FOUND',
      format('comment in room id %s', left(v_id, 20)));
    perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L)', v_id, '1', 'true'), 'PT404', 'ROOM_NOT_FOUND',
      format('presence in room id %s', left(v_id, 20)));
    perform tests.is(public.get_room_sync_state(v_id), '{"error":"Room not found"}'::jsonb,
      format('sync state of room id %s is an unknown room', left(v_id, 20)));
  end loop;
  perform tests.act_as_admin();
  perform tests.is((select count(*) from watchparty_private.user_events where user_id = tests.uid('bob') and kind = 'join_leave'),
    1::bigint, 'refused ids count nothing against the join/leave rate (only bob''s one join above)');
end $$;

-- usernames: a visible character, and never "system"
do $$
declare
  v_name text;
  v_room text := tests.get('room');
begin
  perform tests.act_as('bob');
  foreach v_name in array array['system', 'System', 'SYSTEM', ' sYsTeM ', E'\u001b[1mSystem\u001b[0m', E'Sys\u200btem',
                                E'\u200bsystem\ufeff', E'system\u2060'] loop
    perform tests.throws(format('select tests.join_room(%L, %L)', v_room, v_name), 'PT400', 'INVALID_USERNAME',
      format('the name %s is refused', to_json(v_name)));
    perform tests.throws(format('select public.create_room(p_username => %L)', v_name), 'PT400', 'INVALID_USERNAME',
      format('the name %s is refused for a new room', to_json(v_name)));
  end loop;
  foreach v_name in array array[E'\u200b', E'\u200b\u200c\u200d\u2060\ufeff', E'\u3164\u3164', E'\u2800', E'\u0301\u0301',
                                E'\ufe0f', E'\u00ad', E'\u115f\u1160', E'\U000e0041\U000e0042', E'\u034f'] loop
    perform tests.throws(format('select tests.join_room(%L, %L)', v_room, v_name), 'PT400', 'INVALID_USERNAME',
      format('the invisible name %s is refused', to_json(v_name)));
  end loop;
  foreach v_name in array array['systemd', 'system32', 'the system', 'sys', '🙂', '+', 'é', '漢字', E'e\u0301', E'👩\u200d💻'] loop
    perform tests.is(tests.join_room(v_room, v_name) #>> '{member,username}', v_name, format('the name %s is fine', to_json(v_name)));
  end loop;
end $$;
