-- comments/create: members only, trimming and length, rate limit, defaults from the room.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice', p_anime_id => 'anime123', p_episode_number => 2) #>> '{room,room_id}';
  perform tests.set('room', v_room);
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('alice');
  v := public.create_comment(v_room, E'  hello\u3000\n', 61.5);
  perform tests.is(v #>> '{comment,message}', 'hello', 'the message is trimmed (unicode spaces too)');
  perform tests.is(v #>> '{comment,username}', 'alice', 'the comment carries the member''s name');
  perform tests.is(v #>> '{comment,user_id}', tests.uid('alice')::text, 'the comment carries the caller');
  perform tests.is(v -> 'comment' -> 'video_timestamp', '61.5'::jsonb, 'video_timestamp is kept');
  perform tests.is(v -> 'comment' -> 'is_system_message', 'false'::jsonb, 'a user comment is not a system message');
  perform tests.is(v #>> '{comment,anime_id}', 'anime123', 'anime_id defaults to the room''s');
  perform tests.is(v -> 'comment' -> 'episode_number', '2'::jsonb, 'episode_number defaults to the room''s');
  perform tests.is(jsonb_typeof(v -> 'comment' -> 'id'), 'number', 'the id is a number');
  v := public.create_comment(v_room, repeat('ü', 2000), p_anime_id => 'other', p_episode_number => 9);
  perform tests.is(char_length(v #>> '{comment,message}'), 2000, 'a 2000-character message is accepted');
  perform tests.is(v #>> '{comment,anime_id}', 'other', 'an explicit anime_id wins');

  perform tests.throws(format('select public.create_comment(%L, %L)', v_room, repeat('x', 2001)), 'PT400', 'INVALID_MESSAGE', 'a 2001-character message');
  perform tests.throws(format('select public.create_comment(%L, %L)', v_room, E' \n\t '), 'PT400', 'INVALID_MESSAGE', 'a blank message');
  perform tests.throws(format('select public.create_comment(%L)', v_room), 'PT400', 'INVALID_REQUEST', 'no message');
  perform tests.throws(format('select public.create_comment(%L, %L, %L)', v_room, 'x', 'Infinity'), 'PT400', 'INVALID_REQUEST', 'an infinite video_timestamp');
  v := public.create_comment(v_room, E'\u001b[31mred\u001b[0m\nline\ttwo\u0007\u202e');
  perform tests.is(v #>> '{comment,message}', E'red\nline two', 'escape sequences and controls go, newline stays, tab is a space');
  perform tests.throws(format('select public.create_comment(%L, %L)', v_room, E'\u001b[31m\u001b[0m'), 'PT400', 'INVALID_MESSAGE',
    'a message of escape sequences only');
  perform tests.throws('select public.create_comment(''zzzzzzzzzz'', ''x'')', 'PT404', 'ROOM_NOT_FOUND', 'an unknown room');

  perform tests.act_as('carol');
  perform tests.throws(format('select public.create_comment(%L, %L)', v_room, 'hi'), 'PT403', 'NOT_MEMBER', 'an outsider cannot comment');
  perform tests.act_as_anon();
  perform tests.throws(format('select public.create_comment(%L, %L)', v_room, 'hi'), 'PT401', 'UNAUTHORIZED', 'the anon key cannot comment');
end $$;

-- Rate limit: 5 comments per 10 s per user and room (system notices do not count).
do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  for i in 1..5 loop
    perform public.create_comment(v_room, 'spam ' || i);
  end loop;
  perform tests.throws(format('select public.create_comment(%L, %L)', v_room, 'spam 6'), 'PT429', 'RATE_LIMITED', 'the 6th comment in 10 s');
  perform tests.act_as_admin();
  -- 11 s: created_at is now() rounded to the millisecond, which may be up to 0.5 ms ahead of now().
  update public.comments set created_at = created_at - interval '11 seconds' where user_id = tests.uid('bob');
  perform tests.act_as('bob');
  perform tests.is(public.create_comment(v_room, 'later') #>> '{comment,message}', 'later', 'comments older than 10 s no longer count');
  perform tests.act_as('alice');
  perform tests.is(public.create_comment(v_room, 'mine') #>> '{comment,message}', 'mine', 'the limit is per user');
end $$;
