-- "Same file?": the media report of track_user_presence (p_media_fp, p_media_duration).

select tests.new_user('alice'), tests.new_user('bob');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
end $$;

do $$
declare
  v_room text := tests.get('room');
  v_fp constant text := '0123456789abcdef0123456789abcdef';
  v_row public.room_members;
begin
  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '1', 'false', null, null, to_jsonb(v_fp), '120.5');
  perform tests.act_as_admin();
  select * into v_row from public.room_members where user_id = tests.uid('bob');
  perform tests.is(v_row.media_fp, v_fp, 'the fingerprint is stored');
  perform tests.is(v_row.media_duration, 120.5::double precision, 'the duration is stored');

  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '2', 'false');
  perform tests.act_as_admin();
  select * into v_row from public.room_members where user_id = tests.uid('bob');
  perform tests.is(v_row.media_fp, v_fp, 'a beat without a report leaves the fingerprint');
  perform tests.is(v_row.media_duration, 120.5::double precision, 'and the duration');

  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '2', 'false', null, null, '""');
  perform tests.act_as_admin();
  select * into v_row from public.room_members where user_id = tests.uid('bob');
  perform tests.is(v_row.media_fp, null::text, 'an empty fingerprint clears it');
  perform tests.is(v_row.media_duration, 120.5::double precision, 'and leaves the duration');

  perform tests.act_as('bob');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L, null, null, %L)', v_room, '1', 'true', '"ABCDEF0123456789ABCDEF0123456789"'),
    'PT400', 'INVALID_REQUEST', 'an upper-case fingerprint');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L, null, null, %L)', v_room, '1', 'true', '"movie.mkv"'),
    'PT400', 'INVALID_REQUEST', 'a file name for a fingerprint');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L, null, null, %L)', v_room, '1', 'true', '12'),
    'PT400', 'INVALID_REQUEST', 'a number for a fingerprint');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L, null, null, null, %L)', v_room, '1', 'true', '604801'),
    'PT400', 'INVALID_REQUEST', 'a duration over a week');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L, null, null, null, %L)', v_room, '1', 'true', '"60"'),
    'PT400', 'INVALID_REQUEST', 'a duration that is a string');

  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '2', 'false', null, null, to_jsonb(v_fp), '60');
  perform public.leave_room(v_room);
  perform tests.join_room(v_room, 'bob');
  perform tests.act_as_admin();
  select * into v_row from public.room_members where user_id = tests.uid('bob');
  perform tests.ok(v_row.media_fp is null and v_row.media_duration is null, 'a member back in the room starts without a report');
  perform tests.throws(format('update public.room_members set media_fp = %L where user_id = %L', 'not-hex', tests.uid('bob')),
    '23514', null, 'the column refuses anything but 32 hex digits');
end $$;
