-- Upgrading a project that ran the wait migration: existing members have no media report,
-- the old beat (without media arguments) still works, and there is one track_user_presence.

select tests.new_user('alice'), tests.new_user('bob');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('bob');
  perform public.join_room(v_room, 'bob');
  perform public.track_user_presence(v_room, null, '1', 'false', '"bob-client"');
end $$;

\set ON_ERROR_STOP 1
\i :migration

do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as_admin();
  perform tests.ok((select bool_and(media_fp is null and media_duration is null) from public.room_members),
    'existing members have no media report');
  perform tests.is((select array_agg(column_name::text order by ordinal_position) from information_schema.columns
                    where table_schema = 'public' and table_name = 'room_members' and ordinal_position > 12),
    array['media_fp', 'media_duration'], 'the room_members columns are appended');
  perform tests.is((select count(*) from pg_proc p where p.pronamespace = 'public'::regnamespace
    and p.proname = 'track_user_presence'), 1::bigint, 'one track_user_presence (PostgREST cannot pick between overloads)');
  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '2', 'true', '"bob-client"');
  perform public.track_user_presence(v_room, null, '2', 'true', '"bob-client"', null, '"0123456789abcdef0123456789abcdef"', '60');
  perform tests.act_as_admin();
  perform tests.is((select media_fp from public.room_members where user_id = tests.uid('bob')),
    '0123456789abcdef0123456789abcdef', 'a beat after the upgrade reports media');
end $$;
