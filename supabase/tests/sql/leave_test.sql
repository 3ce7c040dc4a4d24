-- rooms/leave: notices, host hand-over to the longest-present member, the last member leaving.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol'), tests.new_user('dave');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('carol');
  perform tests.join_room(v_room, 'carol');
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  -- Their first beats announce them (notices 1 and 2).
  perform public.track_user_presence(v_room, null, '0', 'false');
  perform tests.act_as('carol');
  perform public.track_user_presence(v_room, null, '0', 'false');
  -- Join order made explicit (joins inside one transaction share now()): carol before bob.
  perform tests.act_as_admin();
  update public.room_members set joined_at = now() - interval '2 minutes' where user_id = tests.uid('carol');
  update public.room_members set joined_at = now() - interval '1 minute' where user_id = tests.uid('bob');
  update public.room_members set joined_at = now() - interval '3 minutes' where user_id = tests.uid('alice');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('dave');
  perform tests.throws(format('select public.leave_room(%L)', v_room), 'PT403', 'NOT_MEMBER', 'an outsider cannot leave');
  perform tests.throws('select public.leave_room(''zzzzzzzzzz'')', 'PT404', 'ROOM_NOT_FOUND', 'leaving an unknown room');
  perform tests.throws('select public.leave_room()', 'PT400', 'INVALID_REQUEST', 'leaving without room_id');
  perform tests.act_as_anon();
  perform tests.throws(format('select public.leave_room(%L)', v_room), 'PT401', 'UNAUTHORIZED', 'the anon key cannot leave');

  perform tests.act_as('alice');
  v := public.leave_room(v_room);
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('carol')::text, 'the host''s leave hands over to the longest-present member');
  perform tests.act_as_admin();
  perform tests.is((select role from public.room_members where user_id = tests.uid('carol')), 'host', 'the heir''s role is host');
  perform tests.is((select role from public.room_members where user_id = tests.uid('bob')), 'member', 'the others stay members');
  perform tests.ok((select left_at is not null and role = 'member' from public.room_members where user_id = tests.uid('alice')),
    'the leaver''s row stays, with left_at set and role member (a soft leave: no DELETE for Realtime to leak)');
  perform tests.is((select array_agg(message order by id) from public.comments where room_id = v_room and id > 2),
    array['alice left the room', 'carol is now the host'], 'a leave adds a notice, a hand-over another');
  perform tests.is((select state_version from public.rooms where room_id = v_room), 1::bigint, 'a hand-over publishes a new state');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('carol');
  perform tests.ok(public.control_room(v_room, 'play', 3) is not null, 'the new host controls');
  perform tests.act_as('alice');
  perform tests.throws(format('select public.control_room(%L, %L, 1)', v_room, 'play'), 'PT403', 'NOT_MEMBER', 'the old host, gone, cannot');
  -- alice is the room's owner and left without handing the room over: she is host again
  -- (lifecycle_test.sql has the owner rules).
  v := tests.join_room(v_room, 'alice');
  perform tests.is(v #>> '{member,role}', 'host', 'the owner rejoins as host (owner return)');
  perform tests.is(public.leave_room(v_room) #>> '{room,host_user_id}', tests.uid('carol')::text, 'and hands over to carol again on leaving');
  perform tests.act_as('bob');
  perform tests.throws(format('select public.control_room(%L, %L, 1)', v_room, 'play'), 'PT403', 'NOT_HOST', 'bob is no host');
  perform tests.is(public.leave_room(v_room) #>> '{room,host_user_id}', tests.uid('carol')::text, 'a member leaving changes no host');

  perform tests.act_as('carol');
  v := public.leave_room(v_room);
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('carol')::text, 'the last member leaving keeps host_user_id');
  perform tests.throws(format('select public.leave_room(%L)', v_room), 'PT403', 'NOT_MEMBER', 'leaving twice');
  v := tests.join_room(v_room, 'carol');
  perform tests.is(v #>> '{member,role}', 'host', 'the host gets an empty room back by joining');
  perform public.track_user_presence(v_room, null, '0', 'false');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from public.comments where room_id = v_room and message = 'carol joined the room'), 2::bigint,
    'a join after a leave is a first join again (announced again at its first beat)');
end $$;

-- A hand-over while playing restates the position at the hand-over time.
do $$
declare
  v jsonb;
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice', p_media_duration => 100) #>> '{room,room_id}';
  perform public.control_room(v_room, 'play', 10, 2);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform tests.act_as_admin();
  update public.rooms set updated_at = now() - interval '3 seconds' where room_id = v_room;
  perform tests.act_as('alice');
  v := public.leave_room(v_room);
  -- (updated_at is stored in ms, so "3 s ago" is 3 s ± 0.5 ms)
  perform tests.ok(abs((v #>> '{room,current_time}')::double precision - 16) < 0.002, 'position = 10 + 3 s played at rate 2');
  perform tests.ok(abs(extract(epoch from (v #>> '{room,updated_at}')::timestamptz - now())) <= 0.0005, 'updated_at is the hand-over time');
  perform tests.is(v -> 'room' -> 'is_playing', 'true'::jsonb, 'still playing');

  perform tests.act_as_admin();
  update public.rooms set updated_at = now() - interval '60 seconds' where room_id = v_room;
  perform tests.act_as('bob');
  v := public.leave_room(v_room);
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('bob')::text, 'the last member leaving keeps the host');
end $$;

do $$
declare
  v_room text;
  v jsonb;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice', p_media_duration => 100) #>> '{room,room_id}';
  perform public.control_room(v_room, 'play', 90);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform tests.act_as_admin();
  update public.rooms set updated_at = now() - interval '60 seconds' where room_id = v_room;
  perform tests.act_as('alice');
  v := public.leave_room(v_room);
  perform tests.is(v -> 'room' -> 'current_time', '100'::jsonb, 'the restated position is clamped to the duration');
end $$;
