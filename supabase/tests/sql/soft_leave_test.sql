-- Soft leaves. Supabase Realtime applies no row security to DELETE events, so the DELETE of a
-- member row published every leave of every room (room id, user id, name) to any subscriber.
-- A leave is now an UPDATE of left_at, which Realtime delivers through RLS to the room's current
-- members only; current membership is "row exists and left_at is null" everywhere.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol');

-- Every DELETE on room_members is recorded, to show that a leave makes none.
create table tests.member_deletes (room_id text, user_id uuid);
create function tests.record_member_delete() returns trigger language plpgsql as $$
begin
  insert into tests.member_deletes values (old.room_id, old.user_id);
  return old;
end $$;
create trigger record_member_delete after delete on public.room_members
  for each row execute function tests.record_member_delete();

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform public.create_comment(v_room, 'before bob left');
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform public.track_user_presence(v_room, null, '0', 'false');  -- the first beat announces bob
  perform tests.act_as('carol');
  perform tests.join_room(v_room, 'carol');
  perform public.track_user_presence(v_room, null, '0', 'false');
end $$;

do $$
declare
  v_room text := tests.get('room');
  v jsonb;
begin
  perform tests.act_as('bob');
  v := public.leave_room(v_room);
  perform tests.act_as_admin();
  perform tests.is((select count(*) from tests.member_deletes), 0::bigint, 'a leave deletes no row');
  perform tests.ok((select left_at = now()::timestamptz(3) from public.room_members where room_id = v_room and user_id = tests.uid('bob')),
    'a leave sets left_at');

  -- the leaver is no member any more, for every function and every policy
  perform tests.act_as('bob');
  perform tests.is(public.get_room_sync_state(v_room), '{"error":"Not a member of this room"}'::jsonb, 'the leaver gets no sync state');
  perform tests.throws(format('select public.create_comment(%L, %L)', v_room, 'still here?'), 'PT403', 'NOT_MEMBER', 'the leaver cannot comment');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L)', v_room, '1', 'true'), 'PT403', 'NOT_MEMBER',
    'the leaver sends no presence');
  perform tests.throws(format('select public.leave_room(%L)', v_room), 'PT403', 'NOT_MEMBER', 'the leaver cannot leave again');
  perform tests.is((select count(*) from public.rooms), 0::bigint, 'the leaver reads no room row');
  perform tests.is((select count(*) from public.room_members), 0::bigint, 'the leaver reads no member rows (its own neither)');
  perform tests.is((select count(*) from public.comments), 0::bigint, 'the leaver reads no comments');

  -- current members see the leave (their realtime UPDATE passes the same policy) and lists
  -- without the leaver
  perform tests.act_as('alice');
  v := public.get_room_sync_state(v_room);
  perform tests.is(jsonb_array_length(v -> 'members'), 2, 'sync state lists the current members only');
  perform tests.ok(not (v -> 'members') @> jsonb_build_array(jsonb_build_object('user_id', tests.uid('bob'))), 'and not the leaver');
  perform tests.is(v #> '{members,0,left_at}', 'null'::jsonb, 'members carry left_at: null');
  perform tests.ok((select left_at is not null from public.room_members where user_id = tests.uid('bob')),
    'a current member reads the leaver''s row, with left_at set');
  perform tests.is(jsonb_array_length(tests.join_room(v_room, 'alice') -> 'members'), 2, 'join''s member list excludes the leaver');
end $$;

-- Rejoining makes the member current again: a new joined_at (last in the hand-over order), the
-- notice of a first join (at the first beat), the role the room gives.
do $$
declare
  v_room text := tests.get('room');
  v jsonb;
begin
  perform tests.act_as_admin();
  update public.room_members set joined_at = now() - interval '1 hour' where user_id = tests.uid('bob');
  perform tests.act_as('bob');
  v := tests.join_room(v_room, 'bobby');
  perform tests.is(v -> 'member' -> 'left_at', 'null'::jsonb, 'a rejoin clears left_at');
  perform tests.is(v #>> '{member,username}', 'bobby', 'a rejoin takes the new name');
  perform tests.is(v #>> '{member,role}', 'member', 'a rejoining member is a member');
  perform tests.ok((v #>> '{member,joined_at}')::timestamptz >= now() - interval '1 second', 'a rejoin sets joined_at to now');
  perform tests.is(jsonb_array_length(v -> 'members'), 3, 'the rejoined member is listed');
  perform tests.is(v #>> '{members,2,user_id}', tests.uid('bob')::text, 'last, in join order');
  perform tests.is(v -> 'member' -> 'announced', 'false'::jsonb, 'unannounced until the first beat');
  perform public.track_user_presence(v_room, null, '0', 'false');
  perform tests.ok(public.create_comment(v_room, 'back') is not null, 'the rejoined member comments');
  perform tests.is((select count(*) from public.comments), 6::bigint, 'and reads the room''s whole history again');
  perform tests.act_as_admin();
  perform tests.is((select array_agg(message order by id) from public.comments where room_id = v_room and is_system_message),
    array['bob joined the room', 'carol joined the room', 'bob left the room', 'bobby joined the room'],
    'leave and rejoin add notices like a first join');
end $$;

-- The host hands over to the longest-present current member (a left member is never heir), and a
-- host who left an empty room gets it back by joining.
do $$
declare
  v_room text := tests.get('room');
  v jsonb;
begin
  perform tests.act_as('carol');
  perform public.leave_room(v_room);
  perform tests.act_as_admin();
  -- carol (left) joined long before bob: she must not inherit
  update public.room_members set joined_at = now() - interval '2 hours' where user_id = tests.uid('carol');
  perform tests.act_as('alice');
  v := public.leave_room(v_room);
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('bob')::text, 'the heir is a current member');
  perform tests.act_as_admin();
  perform tests.is((select role from public.room_members where user_id = tests.uid('alice')), 'member', 'the old host''s row says member');
  perform tests.is((select role from public.room_members where user_id = tests.uid('carol')), 'member', 'the left member stays member');

  perform tests.act_as('alice');
  perform tests.throws(format('select public.control_room(%L, %L, 1)', v_room, 'play'), 'PT403', 'NOT_MEMBER', 'the old host has left');
  -- alice is the room's owner: she rejoins as host (owner return, lifecycle_test.sql), and her
  -- leave hands the room to bob again
  perform tests.is(tests.join_room(v_room, 'alice') #>> '{member,role}', 'host', 'the owner rejoins as host');
  perform tests.is(public.leave_room(v_room) #>> '{room,host_user_id}', tests.uid('bob')::text, 'and leaves it to bob again');
  perform tests.act_as('bob');
  perform tests.is(public.leave_room(v_room) #>> '{room,host_user_id}', tests.uid('bob')::text, 'the last one out keeps the room');
  perform tests.is(tests.join_room(v_room, 'bob') #>> '{member,role}', 'host', 'and gets it back, as host, by joining');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from tests.member_deletes), 0::bigint, 'no leave deleted a row');
end $$;
