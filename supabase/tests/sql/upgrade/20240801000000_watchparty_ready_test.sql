-- Upgrading a project that ran the lifecycle migration: existing rooms are not in ready mode and
-- have no pending start, existing members are not ready, and the replaced functions (control,
-- create, leave, the sweep) keep working on them.

select tests.new_user('alice'), tests.new_user('bob');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform public.control_room(v_room, 'play', 3);
  perform tests.act_as('bob');
  perform public.join_room(v_room, 'bob');
  perform public.track_user_presence(v_room, null, '3', 'true');
end $$;

\set ON_ERROR_STOP 1
\i :migration

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.ok((select not ready_mode and not start_pending and is_playing from public.rooms where room_id = v_room),
    'an existing room: no ready mode, no pending start, still playing');
  perform tests.ok((select bool_and(not ready) from public.room_members), 'existing members are not ready');
  perform tests.is((select array_agg(column_name::text order by ordinal_position) from information_schema.columns
                    where table_schema = 'public' and table_name = 'rooms' and ordinal_position > 15),
    array['ready_mode', 'start_pending'], 'the rooms columns are appended');
  perform tests.is((select array_agg(column_name::text order by ordinal_position) from information_schema.columns
                    where table_schema = 'public' and table_name = 'room_members' and ordinal_position > 10),
    array['ready'], 'the room_members column is appended');
  perform tests.act_as('alice');
  v := public.control_room(v_room, 'pause', 5);
  perform tests.is(v -> 'room' -> 'is_playing', 'false'::jsonb, 'control works on an existing room');
  v := public.control_room(v_room, 'play', 5);
  perform tests.is(v -> 'room' -> 'is_playing', 'true'::jsonb, 'without ready mode a play plays');
  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '5', 'true');
  perform public.leave_room(v_room);
  perform tests.act_as_admin();
  perform tests.is((select left_at is not null from public.room_members where user_id = tests.uid('bob')), true, 'leave works');
end $$;
