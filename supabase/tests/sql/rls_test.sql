-- Row-level security and privileges: members read their room, outsiders and anon read nothing,
-- nobody writes directly; the realtime publication and replica identity.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol');

do $$
declare
  v_room text;
  v_other text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform public.create_comment(v_room, 'hello');
  perform tests.set('room', v_room);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform public.track_user_presence(v_room, null, '0', 'false');  -- announces bob: the notice
  perform tests.act_as('carol');
  v_other := public.create_room(p_username => 'carol') #>> '{room,room_id}';
  perform public.create_comment(v_other, 'carol''s room');
  perform tests.set('other', v_other);
end $$;

do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as('bob');
  perform tests.is((select count(*) from public.rooms), 1::bigint, 'a member reads its room and no other');
  perform tests.is((select count(*) from public.room_members), 2::bigint, 'a member reads its room''s members');
  perform tests.is((select count(*) from public.comments), 2::bigint, 'a member reads its room''s comments (notice + hello)');
  perform tests.ok((select bool_and(room_id = v_room) from public.comments), 'and only its room''s');

  perform tests.act_as('carol');
  perform tests.is((select count(*) from public.rooms where room_id = v_room), 0::bigint, 'an outsider reads no room');
  perform tests.is((select count(*) from public.room_members where room_id = v_room), 0::bigint, 'an outsider reads no members');
  perform tests.is((select count(*) from public.comments where room_id = v_room), 0::bigint, 'an outsider reads no comments');

  perform tests.act_as_anon();
  perform tests.is((select count(*) from public.rooms), 0::bigint, 'anon reads no rooms');
  perform tests.is((select count(*) from public.room_members), 0::bigint, 'anon reads no members');
  perform tests.is((select count(*) from public.comments), 0::bigint, 'anon reads no comments');
end $$;

do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as('alice');
  perform tests.throws(format('insert into public.comments (room_id, username, message) values (%L, %L, %L)', v_room, 'x', 'forged'),
    '42501', null, 'a member cannot insert comments directly');
  perform tests.throws(format('update public.rooms set is_playing = true where room_id = %L', v_room),
    '42501', null, 'the host cannot update the room directly');
  perform tests.throws(format('update public.room_members set role = %L', 'host'),
    '42501', null, 'nobody can promote themselves');
  perform tests.throws(format('delete from public.room_members where room_id = %L', v_room),
    '42501', null, 'nobody can delete members directly');
  perform tests.throws(format('insert into public.rooms (room_id, host_user_id) values (%L, %L)', 'abcdefghij', tests.uid('alice')),
    '42501', null, 'nobody can insert rooms directly');
  perform tests.throws('select watchparty_private.fail(400, ''X'', ''y'')', '42501', null, 'the private helpers are not callable');
  perform tests.throws('select count(*) from watchparty_private.control_events', '42501', null, 'the private tables are not readable');
  perform tests.act_as_anon();
  perform tests.throws(format('insert into public.comments (room_id, username, message) values (%L, %L, %L)', v_room, 'x', 'forged'),
    '42501', null, 'anon cannot insert comments directly');
end $$;

do $$
begin
  perform tests.is((select array_agg(tablename::text order by tablename) from pg_publication_tables where pubname = 'supabase_realtime'),
    array['comments', 'room_members', 'room_queue', 'rooms'], 'our four tables are in supabase_realtime');
  perform tests.is((select relreplident from pg_class where oid = 'public.room_members'::regclass), 'f'::"char",
    'room_members has replica identity full');
  perform tests.ok((select bool_and(relrowsecurity) from pg_class where oid in
    ('public.rooms'::regclass, 'public.room_members'::regclass, 'public.comments'::regclass)), 'RLS is on for all three');
  perform tests.ok((select bool_and(p.prosecdef) from pg_proc p where p.pronamespace = 'public'::regnamespace
    and p.proname in ('create_room', 'join_room', 'leave_room', 'control_room', 'create_comment', 'track_user_presence', 'get_room_sync_state')),
    'the room functions are security definer');
  perform tests.ok((select bool_and(p.proconfig @> array['search_path=""']) from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'watchparty_private'::regnamespace)),
    'every function pins an empty search_path');
end $$;
