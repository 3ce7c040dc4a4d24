-- sync/control: host only, the actions' effect on the room state, argument checks, rate limit.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol');

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
  v jsonb;
  v_room text := tests.get('room');
  v_before timestamptz;
begin
  perform tests.act_as('alice');
  v := public.control_room(v_room, 'play', 12.5);
  perform tests.is(v -> 'room' -> 'is_playing', 'true'::jsonb, 'play sets is_playing');
  perform tests.is(v -> 'room' -> 'current_time', '12.5'::jsonb, 'play sets current_time');
  perform tests.is(v -> 'room' -> 'state_version', '1'::jsonb, 'a control bumps state_version');
  perform tests.ok((v #>> '{room,updated_at}')::timestamptz between now() - interval '1 ms' and now() + interval '1 ms',
    'a control stamps updated_at with the server''s time');

  v := public.control_room(v_room, 'seek', 100);
  perform tests.is(v -> 'room' -> 'is_playing', 'true'::jsonb, 'seek keeps playing');
  perform tests.is(v -> 'room' -> 'current_time', '100'::jsonb, 'seek moves');
  v := public.control_room(v_room, 'pause', 101.25);
  perform tests.is(v -> 'room' -> 'is_playing', 'false'::jsonb, 'pause stops');
  perform tests.is(v -> 'room' -> 'current_time', '101.25'::jsonb, 'pause records the position');
  v := public.control_room(v_room, 'sync', 101.5);
  perform tests.is(v -> 'room' -> 'is_playing', 'false'::jsonb, 'sync keeps the play state');
  v := public.control_room(v_room, 'rate', 101.5, 1.5);
  perform tests.is(v -> 'room' -> 'playback_rate', '1.5'::jsonb, 'rate sets playback_rate');
  v := public.control_room(v_room, 'seek', 0, p_user_id => tests.uid('alice')::text);
  perform tests.is(v -> 'room' -> 'playback_rate', '1.5'::jsonb, 'other actions keep the rate');
  perform tests.is(v -> 'room' -> 'current_time', '0'::jsonb, 'seek to 0 is allowed');
  perform tests.is(v -> 'room' -> 'state_version', '6'::jsonb, 'six controls, six versions');

  perform tests.act_as_admin();
  update public.rooms set media_duration = 120 where room_id = v_room;
  perform tests.act_as('alice');
  v := public.control_room(v_room, 'seek', 500);
  perform tests.is(v -> 'room' -> 'current_time', '120'::jsonb, 'a position past the media''s end is clamped to its duration');
  perform tests.act_as_admin();
  update public.rooms set media_duration = null, state_version = 6, "current_time" = 0 where room_id = v_room;
  perform tests.act_as('alice');
  perform tests.throws(format('select public.control_room(%L, %L, 1)', v_room, 'rewind'), 'PT400', 'INVALID_REQUEST', 'an unknown action');
  perform tests.throws(format('select public.control_room(%L, %L, -1)', v_room, 'seek'), 'PT400', 'INVALID_REQUEST', 'a negative position');
  perform tests.throws(format('select public.control_room(%L, %L, %L)', v_room, 'seek', 'NaN'), 'PT400', 'INVALID_REQUEST', 'a NaN position');
  perform tests.throws(format('select public.control_room(%L, %L, %L)', v_room, 'seek', 'Infinity'), 'PT400', 'INVALID_REQUEST', 'an infinite position');
  perform tests.throws(format('select public.control_room(%L, %L)', v_room, 'play'), 'PT400', 'INVALID_REQUEST', 'no position');
  perform tests.throws(format('select public.control_room(%L, %L, 1)', v_room, 'rate'), 'PT400', 'INVALID_REQUEST', 'rate without a rate');
  perform tests.throws(format('select public.control_room(%L, %L, 1, 4.01)', v_room, 'rate'), 'PT400', 'INVALID_REQUEST', 'a rate above 4');
  perform tests.throws(format('select public.control_room(%L, %L, 1, 0.2)', v_room, 'play'), 'PT400', 'INVALID_REQUEST', 'a rate below 0.25');
  perform tests.throws('select public.control_room(''zzzzzzzzzz'', ''play'', 1)', 'PT404', 'ROOM_NOT_FOUND', 'an unknown room');

  perform tests.act_as('bob');
  perform tests.throws(format('select public.control_room(%L, %L, 5)', v_room, 'play'), 'PT403', 'NOT_HOST', 'a member is not the host');
  perform tests.act_as('carol');
  perform tests.throws(format('select public.control_room(%L, %L, 5)', v_room, 'play'), 'PT403', 'NOT_MEMBER', 'an outsider is not a member');
  perform tests.act_as_anon();
  perform tests.throws(format('select public.control_room(%L, %L, 5)', v_room, 'play'), 'PT401', 'UNAUTHORIZED', 'the anon key cannot control');

  perform tests.act_as_admin();
  perform tests.is((select state_version from public.rooms where room_id = v_room), 6::bigint,
    'refused controls change nothing');
end $$;

-- Rate limit: 20 controls per 10 s per user and room; older ones no longer count.
do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as_admin();
  delete from watchparty_private.control_events;
  perform tests.act_as('alice');
  for i in 1..20 loop
    perform public.control_room(v_room, 'seek', i);
  end loop;
  perform tests.throws(format('select public.control_room(%L, %L, 21)', v_room, 'seek'), 'PT429', 'RATE_LIMITED', 'the 21st control in 10 s');
  perform tests.act_as_admin();
  update watchparty_private.control_events set at = at - interval '10.001 seconds';
  perform tests.act_as('alice');
  perform tests.is(public.control_room(v_room, 'seek', 22) -> 'room' -> 'current_time', '22'::jsonb,
    'controls older than 10 s no longer count');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from watchparty_private.control_events), 1::bigint, 'old control events are pruned');
end $$;
