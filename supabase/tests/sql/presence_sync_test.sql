-- RPCs: track_user_presence and get_room_sync_state.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform public.control_room(v_room, 'play', 42);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform tests.act_as_admin();
  -- (alice, the host, within stale_after: a beat's sweep would hand a silent host's room over)
  update public.room_members set last_seen = now() - interval '10 seconds';
end $$;

do $$
declare
  v_room text := tests.get('room');
  v_row public.room_members;
begin
  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '12.75'::jsonb, 'true'::jsonb);
  perform tests.act_as_admin();
  select * into v_row from public.room_members where user_id = tests.uid('bob');
  perform tests.is(v_row."current_time", 12.75::double precision, 'presence records the position');
  perform tests.is(v_row.is_playing, true, 'presence records the play state');
  perform tests.ok(v_row.last_seen > now() - interval '1 second', 'presence refreshes last_seen');
  perform tests.ok((select last_seen < now() - interval '5 seconds' from public.room_members where user_id = tests.uid('alice')),
    'presence touches only the caller''s row');

  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, tests.uid('bob')::text, '0'::jsonb, 'false'::jsonb);
  perform tests.throws(format('select public.track_user_presence(%L, %L, %L, %L)', v_room, tests.uid('alice'), '1', 'true'),
    'PT403', 'USER_MISMATCH', 'presence for another user');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L)', v_room, '"1"', 'true'),
    'PT400', 'INVALID_REQUEST', 'a position that is a string');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L)', v_room, '1', '"yes"'),
    'PT400', 'INVALID_REQUEST', 'a play state that is a string');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L)', v_room, '-1', 'true'),
    'PT400', 'INVALID_REQUEST', 'a negative position');
  perform tests.throws(format('select public.track_user_presence(%L)', v_room),
    'PT400', 'INVALID_REQUEST', 'missing arguments');
  perform tests.throws('select public.track_user_presence(''zzzzzzzzzz'', null, ''1'', ''true'')',
    'PT404', 'ROOM_NOT_FOUND', 'presence in an unknown room');
  perform tests.act_as('carol');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L)', v_room, '1', 'true'),
    'PT403', 'NOT_MEMBER', 'presence by an outsider');
  perform tests.act_as_anon();
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L)', v_room, '1', 'true'),
    'PT401', 'UNAUTHORIZED', 'presence with the anon key');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
  v_now bigint;
begin
  perform tests.act_as('bob');
  v_now := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
  v := public.get_room_sync_state(v_room, tests.uid('bob')::text);
  perform tests.is(v #>> '{room,room_id}', v_room, 'sync state carries the room');
  perform tests.is(v -> 'room' -> 'is_playing', 'true'::jsonb, 'sync state carries the play state');
  perform tests.is(v -> 'room' -> 'current_time', '42'::jsonb, 'sync state carries the position');
  perform tests.is(jsonb_array_length(v -> 'members'), 2, 'sync state lists the members');
  perform tests.is(jsonb_typeof(v -> 'server_time'), 'number', 'server_time is a number');
  perform tests.ok((v ->> 'server_time')::bigint between v_now - 5 and v_now + 1000, 'server_time is epoch ms, now');
  perform tests.ok((v ->> 'server_time') !~ '\.', 'server_time is whole milliseconds');

  perform tests.is(public.get_room_sync_state('zzzzzzzzzz'), '{"error":"Room not found"}'::jsonb, 'an unknown room gives the browser client''s error shape');
  perform tests.throws(format('select public.get_room_sync_state(%L, %L)', v_room, tests.uid('alice')),
    'PT403', 'USER_MISMATCH', 'sync state for another user');
  perform tests.throws('select public.get_room_sync_state()', 'PT400', 'INVALID_REQUEST', 'sync state without room');
  perform tests.act_as('carol');
  perform tests.is(public.get_room_sync_state(v_room), '{"error":"Not a member of this room"}'::jsonb, 'an outsider gets the browser client''s error shape');
  perform tests.act_as_anon();
  perform tests.throws(format('select public.get_room_sync_state(%L)', v_room), 'PT401', 'UNAUTHORIZED', 'sync state with the anon key');
end $$;
