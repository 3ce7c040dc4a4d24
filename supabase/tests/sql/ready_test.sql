-- The ready check: rooms/settings, rooms/ready, sync/control's held play and force, the start
-- when the last live member is ready, and who counts as live.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol'), tests.new_user('dave');

do $$
declare
  v jsonb;
  v_room text;
begin
  perform tests.act_as('alice');
  v := public.create_room(p_username => 'alice', p_ready_mode => true);
  v_room := v #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.is(v -> 'room' -> 'ready_mode', 'true'::jsonb, 'create takes ready_mode');
  perform tests.is(v -> 'room' -> 'start_pending', 'false'::jsonb, 'no start pending at first');
  perform tests.is(v -> 'member' -> 'ready', 'false'::jsonb, 'members start not ready');
  foreach v_room in array array['bob', 'carol', 'dave'] loop
    perform tests.act_as(v_room);
    perform tests.join_room(tests.get('room'), v_room);
  end loop;
end $$;

-- bob and carol beat (announced, live); dave never does.
do $$ begin perform tests.act_as('bob'); perform public.track_user_presence(tests.get('room'), null, '0', 'false'); end $$;
do $$ begin perform tests.act_as('carol'); perform public.track_user_presence(tests.get('room'), null, '0', 'false'); end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('alice');
  v := public.control_room(v_room, 'play', 4);
  perform tests.is(v -> 'not_ready_count', '2'::jsonb, 'two live members are not ready (not dave, who never beat; not the host)');
  perform tests.is(v #>> '{not_ready,0,username}', 'bob', 'named in the order they joined');
  perform tests.is(v #>> '{not_ready,1,user_id}', tests.uid('carol')::text, 'with their user ids');
  perform tests.is(v -> 'room' -> 'is_playing', 'false'::jsonb, 'the held play does not start the room');
  perform tests.is(v -> 'room' -> 'start_pending', 'true'::jsonb, 'the start is pending');
  perform tests.is(v -> 'room' -> 'current_time', '4'::jsonb, 'at the host''s position');
  perform tests.is(v -> 'room' -> 'state_version', '1'::jsonb, 'a new state_version');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('bob');
  v := public.set_member_ready(v_room, true);
  perform tests.is(v -> 'member' -> 'ready', 'true'::jsonb, 'bob is ready');
  perform tests.is(v -> 'room' -> 'is_playing', 'false'::jsonb, 'carol is not');
  perform tests.act_as('carol');
  v := public.set_member_ready(v_room, true);
  perform tests.is(v -> 'room' -> 'is_playing', 'true'::jsonb, 'the last one ready starts the room');
  perform tests.is(v -> 'room' -> 'start_pending', 'false'::jsonb, 'no longer pending');
  perform tests.is(v -> 'room' -> 'state_version', '2'::jsonb, 'a new state_version');
  perform tests.act_as_admin();
  perform tests.is((select message from public.comments where room_id = v_room order by id desc limit 1),
    'Everyone is ready: playing', 'with a system comment');
end $$;

-- pause, then carol not ready again: seek drops the pending start, force plays, a leave starts.
do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('alice');
  perform public.control_room(v_room, 'pause', 10);
  perform tests.act_as('carol');
  perform public.set_member_ready(v_room, false);
  perform tests.act_as('alice');
  v := public.control_room(v_room, 'play', 10);
  perform tests.is(v -> 'not_ready_count', '1'::jsonb, 'carol holds it');
  v := public.control_room(v_room, 'seek', 20);
  perform tests.is(v -> 'room' -> 'start_pending', 'false'::jsonb, 'a seek drops the pending start');
  perform tests.ok(v -> 'not_ready' is null, 'a seek is no held play');
  v := public.control_room(v_room, 'play', 20, p_force => true);
  perform tests.is(v -> 'room' -> 'is_playing', 'true'::jsonb, 'force plays at once');
  perform public.control_room(v_room, 'pause', 21);
  v := public.control_room(v_room, 'play', 21);
  perform tests.is(v -> 'room' -> 'start_pending', 'true'::jsonb, 'pending again');
  perform tests.act_as('carol');
  perform public.leave_room(v_room);
  perform tests.act_as_admin();
  perform tests.ok((select is_playing and not start_pending from public.rooms where room_id = v_room),
    'the last one not ready leaving starts the room');
  perform tests.is((select ready from public.room_members where room_id = v_room and user_id = tests.uid('carol')), false,
    'a leave clears the answer');
end $$;

-- A member gone quiet (stale) holds a pending start no longer: the next beat's sweep starts it.
do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('alice');
  perform public.control_room(v_room, 'pause', 30);
  perform tests.act_as('bob');
  perform public.set_member_ready(v_room, false);
  perform tests.act_as('alice');
  v := public.control_room(v_room, 'play', 30);
  perform tests.is(v -> 'room' -> 'start_pending', 'true'::jsonb, 'bob holds it');
  perform tests.act_as_admin();
  update public.room_members set last_seen = now() - interval '20 seconds' where room_id = v_room and user_id = tests.uid('bob');
  perform tests.act_as('alice');
  perform public.track_user_presence(v_room, null, '30', 'false');
  perform tests.act_as_admin();
  perform tests.ok((select is_playing and not start_pending from public.rooms where room_id = v_room),
    'bob quiet: the beat''s sweep starts the room');
end $$;

-- rooms/settings: host only; off drops a pending start; on asks everyone again.
do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('bob');
  perform tests.throws(format('select public.update_room_settings(%L, false)', v_room), 'PT403', 'NOT_HOST', 'a member changes settings');
  perform tests.throws(format('select public.set_member_ready(%L)', v_room), 'PT400', 'INVALID_REQUEST', 'ready without an answer');
  perform public.set_member_ready(v_room, true);
  perform tests.act_as_admin();
  update public.room_members set last_seen = now() where room_id = v_room;
  perform tests.act_as('alice');
  perform public.control_room(v_room, 'pause', 40);
  v := public.update_room_settings(v_room, false);
  perform tests.is(v -> 'room' -> 'ready_mode', 'false'::jsonb, 'ready mode off');
  v := public.update_room_settings(v_room);
  perform tests.is(v -> 'room' -> 'ready_mode', 'false'::jsonb, 'no setting changes nothing');
  v := public.update_room_settings(v_room, true);
  perform tests.is(v -> 'room' -> 'ready_mode', 'true'::jsonb, 'ready mode on');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from public.room_members where room_id = v_room and ready), 0::bigint,
    'switching ready mode on asks everyone again');
  perform tests.act_as('alice');
  perform public.control_room(v_room, 'play', 40);
  v := public.update_room_settings(v_room, false);
  perform tests.is(v -> 'room' -> 'start_pending', 'false'::jsonb, 'ready mode off drops a pending start');
  perform tests.act_as('carol');
  perform tests.throws(format('select public.set_member_ready(%L, true)', v_room), 'PT403', 'NOT_MEMBER', 'a leaver answers');
  perform tests.throws(format('select public.update_room_settings(%L, true)', v_room), 'PT403', 'NOT_MEMBER', 'a leaver changes settings');
end $$;

-- rooms/ready: at most 10 in 10 s per person and room.
do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as('dave');
  for i in 1..10 loop
    perform public.set_member_ready(v_room, i % 2 = 0);
  end loop;
  perform tests.throws(format('select public.set_member_ready(%L, true)', v_room), 'PT429', 'RATE_LIMITED', 'the 11th answer in 10 s');
end $$;
