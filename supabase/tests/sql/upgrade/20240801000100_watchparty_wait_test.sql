-- Upgrading a project that ran the lifecycle migration: existing rooms wait for nobody and at
-- most 8 s, existing members are not buffering, and old clients' calls (no p_buffering, no
-- p_waiting_for) work as before.

select tests.new_user('alice'), tests.new_user('bob');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform public.control_room(v_room, 'play', 5);
  perform tests.act_as('bob');
  perform public.join_room(v_room, 'bob');
  perform public.track_user_presence(v_room, null, '1', 'true');
end $$;

\set ON_ERROR_STOP 1
\i :migration

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as_admin();
  perform tests.is((select waiting_for from public.rooms where room_id = v_room), '[]'::jsonb, 'an existing room waits for nobody');
  perform tests.is((select wait_limit from public.rooms where room_id = v_room), 8, 'with the default limit');
  perform tests.ok((select bool_and(not buffering) from public.room_members), 'existing members are not buffering');
  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '2', 'true', '"client-of-bob"');
  perform tests.act_as('alice');
  v := public.control_room(v_room, 'seek', 7, null, null, null);
  perform tests.is(v -> 'room' -> 'current_time', '7'::jsonb, 'a control as old clients send it');
  perform tests.is((select count(*) from pg_proc where proname in ('track_user_presence', 'control_room')
                    and pronamespace = 'public'::regnamespace), 2::bigint, 'one function of each name (no overloads)');
end $$;
