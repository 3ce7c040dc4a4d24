-- Upgrading a project that ran the trust migration: rooms get their host as owner, existing
-- members count as announced (their joins were told), and each current member gets one client,
-- seen when the member was, so that the first beat's sweep drops only those already gone.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol'), tests.new_user('dave');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('bob');
  perform public.join_room(v_room, 'bob');
  perform tests.act_as('carol');
  perform public.join_room(v_room, 'carol');
  perform tests.act_as('dave');
  perform public.join_room(v_room, 'dave');
  perform public.leave_room(v_room);
  perform tests.act_as_admin();
  -- carol was last seen a minute ago: gone by the new rules
  update public.room_members set last_seen = now() - interval '1 minute' where user_id = tests.uid('carol');
end $$;

\set ON_ERROR_STOP 1
\i :migration

do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.is((select owner_user_id from public.rooms where room_id = v_room), tests.uid('alice'), 'the host owns the room');
  perform tests.is((select owner_handed_over from public.rooms where room_id = v_room), false, 'not handed over');
  perform tests.ok((select bool_and(announced) from public.room_members), 'every existing member is announced');
  perform tests.is((select count(*) from watchparty_private.room_clients where room_id = v_room), 3::bigint,
    'each current member has one client (not dave, who left)');
  perform tests.ok((select bool_and(c.last_seen = m.last_seen) from watchparty_private.room_clients c
                    join public.room_members m using (room_id, user_id)), 'seen when the member was');
  perform tests.is((select count(*) from watchparty_private.member_order), 4::bigint, 'every member row has its place in the order');
  perform tests.ok((select attnotnull from pg_attribute where attrelid = 'public.rooms'::regclass and attname = 'owner_user_id'),
    'owner_user_id is not null');
  perform tests.is((select column_default from information_schema.columns
                    where table_schema = 'public' and table_name = 'room_members' and column_name = 'announced'), 'false',
    'new members start unannounced');
  perform tests.is((select array_agg(column_name::text order by ordinal_position) from information_schema.columns
                    where table_schema = 'public' and table_name = 'rooms' and ordinal_position > 13), array['owner_user_id', 'owner_handed_over'],
    'the rooms columns are appended');
  perform tests.is((select array_agg(column_name::text order by ordinal_position) from information_schema.columns
                    where table_schema = 'public' and table_name = 'room_members' and ordinal_position > 8), array['left_at', 'announced'],
    'the room_members columns are appended');
end $$;

do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '1', 'false');
  perform tests.act_as_admin();
  perform tests.is((select array_agg(user_id order by user_id) from public.room_members where room_id = v_room and left_at is null),
    (select array_agg(u order by u) from unnest(array[tests.uid('alice'), tests.uid('bob')]) u),
    'the first beat drops carol (gone for a minute) and keeps the others');
  perform tests.is((select array_agg(message order by id) from public.comments where room_id = v_room and is_system_message
                    and message like 'carol%'), array['carol joined the room', 'carol dropped out'], 'told as a drop-out');
end $$;
