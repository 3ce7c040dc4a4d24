-- Membership over time (the lifecycle migration): clients (client_id, at most 8 per person and
-- room), announce at the first beat, the owner and owner return, the liveness sweep (drop-out
-- after gone_after, hand-over of a host silent for stale_after), rooms/handover, the settings.
-- Time passes by moving last_seen into the past (one DO block is one transaction: now() stands
-- still inside it).

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol'), tests.new_user('dave'),
  tests.new_user('erin');

-- Moves a member's last_seen, and that of all their clients, p_ago into the past.
create function tests.quiet(p_room text, p_name text, p_ago interval) returns void
language sql security definer set search_path = '' as $$
  update public.room_members set last_seen = now() - p_ago where room_id = p_room and user_id = tests.uid(p_name);
  update watchparty_private.room_clients set last_seen = now() - p_ago where room_id = p_room and user_id = tests.uid(p_name);
$$;
grant execute on function tests.quiet(text, text, interval) to authenticated;

create function tests.beat(p_room text) returns void
language sql as $$ select public.track_user_presence(p_room, null, '1', 'false') $$;

create function tests.clients(p_room text, p_name text) returns text[]
language sql security definer set search_path = '' as $$
  select coalesce(array_agg(client_id order by client_id), '{}') from watchparty_private.room_clients
  where room_id = p_room and user_id = tests.uid(p_name)
$$;

create function tests.notices(p_room text) returns text[]
language sql security definer set search_path = '' as $$
  select coalesce(array_agg(message order by id), '{}') from public.comments where room_id = p_room and is_system_message
$$;

create function tests.member(p_room text, p_name text) returns public.room_members
language sql security definer set search_path = '' as $$
  select * from public.room_members where room_id = p_room and user_id = tests.uid(p_name)
$$;

create function tests.room(p_room text) returns public.rooms
language sql security definer set search_path = '' as $$
  select * from public.rooms where room_id = p_room
$$;

-- client_id: its shape, made by the server when missing, returned by create and join
do $$
declare
  v jsonb;
  v_room text;
  v_msg constant text := 'client_id must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -';
begin
  perform tests.act_as('alice');
  v := public.create_room(p_username => 'alice');
  v_room := v #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.ok(v ->> 'client_id' ~ '^[A-Za-z0-9_-]{16,64}$', 'create without client_id returns a new one (16+ characters)');
  perform tests.is(tests.clients(v_room, 'alice'), array[v ->> 'client_id'], 'the creator has that one client');
  perform tests.is(v #>> '{room,owner_user_id}', tests.uid('alice')::text, 'the creator owns the room');
  perform tests.is(v -> 'room' -> 'owner_handed_over', 'false'::jsonb, 'owner_handed_over starts false');
  perform tests.is(v -> 'member' -> 'announced', 'true'::jsonb, 'the creator is announced at once');
  perform tests.is(tests.notices(v_room), '{}'::text[], 'and no notice is posted');
  perform tests.is(public.create_room(p_username => 'alice', p_client_id => 'alice-term_1') ->> 'client_id', 'alice-term_1',
    'create with a client_id returns it');

  perform tests.throws_message(format('select public.create_room(p_username => %L, p_client_id => %L)', 'a', 'short'),
    'PT400', 'INVALID_REQUEST', v_msg, 'a 5-character client_id');
  perform tests.throws_message(format('select tests.join_room(%L, %L, null, %L)', v_room, 'a', repeat('x', 65)),
    'PT400', 'INVALID_REQUEST', v_msg, 'a 65-character client_id');
  perform tests.throws_message(format('select tests.join_room(%L, %L, null, %L)', v_room, 'a', 'abc def ghi'),
    'PT400', 'INVALID_REQUEST', v_msg, 'a client_id with a space');
  perform tests.throws_message(format('select tests.join_room(%L, %L, null, %L)', v_room, 'a', 'abcdefgh' || E'\n'),
    'PT400', 'INVALID_REQUEST', v_msg, 'a client_id with a trailing newline');
  perform tests.throws_message(format('select public.leave_room(%L, null, %L)', v_room, 'ééééééééé'),
    'PT400', 'INVALID_REQUEST', v_msg, 'a client_id of letters beyond ASCII (leave)');
  perform tests.throws_message(format('select public.track_user_presence(%L, null, %L, %L, %L)', v_room, '1', 'true', '12345678'),
    'PT400', 'INVALID_REQUEST', v_msg, 'a client_id that is a JSON number (presence)');
  perform tests.throws_message(format('select public.track_user_presence(%L, null, %L, %L, %L)', v_room, '1', 'true', '"a.b.c.d.e"'),
    'PT400', 'INVALID_REQUEST', v_msg, 'a client_id with dots (presence)');
  perform tests.throws_message(format('select public.track_user_presence(%L, null, %L, %L, %L)', 'zzzzzzzzzz', '1', 'true', '"x"'),
    'PT400', 'INVALID_REQUEST', v_msg, 'the client_id is checked before the room');
  perform public.track_user_presence(v_room, null, '1', 'true', 'null');
  perform tests.ok(true, 'a JSON null client_id is no client_id');

  perform tests.act_as('bob');
  v := tests.join_room(v_room, 'bob', null, repeat('B', 64));
  perform tests.is(v ->> 'client_id', repeat('B', 64), 'join with a 64-character client_id returns it');
  v := tests.join_room(v_room, 'bob');
  perform tests.ok(v ->> 'client_id' ~ '^[A-Za-z0-9_-]{16,64}$' and v ->> 'client_id' <> repeat('B', 64),
    'join without client_id adds a new client');
  perform tests.is(cardinality(tests.clients(v_room, 'bob')), 2, 'bob has two clients');
  perform tests.act_as_admin();
  perform tests.ok((select count(distinct watchparty_private.new_client_id()) = 100 from generate_series(1, 100)),
    'generated client ids differ');
end $$;

-- the cap: 8 clients per person and room; a 9th pushes out the least recently seen
do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as('bob');
  perform public.leave_room(v_room);
  perform tests.join_room(v_room, 'bob', null, 'client-1');
  for i in 2..8 loop
    perform tests.join_room(v_room, 'bob', null, 'client-' || i);
  end loop;
  perform tests.act_as_admin();
  perform tests.reset_rates();
  -- seen 7, 6, … 1 s ago, except client-1, seen just now
  update watchparty_private.room_clients set last_seen = now() - (9 - substr(client_id, 8)::int) * interval '1 second'
  where room_id = v_room and user_id = tests.uid('bob');
  update watchparty_private.room_clients set last_seen = now() where room_id = v_room and client_id = 'client-1';
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob', null, 'client-9');
  perform tests.is(tests.clients(v_room, 'bob'),
    array['client-1', 'client-3', 'client-4', 'client-5', 'client-6', 'client-7', 'client-8', 'client-9'],
    'the 9th client pushes out the least recently seen (client-2)');
  perform public.track_user_presence(v_room, null, '1', 'false', '"client-10"');
  perform tests.is(cardinality(tests.clients(v_room, 'bob')), 8, 'a beat of a new client adds it within the cap');
  perform tests.ok(not 'client-3' = any(tests.clients(v_room, 'bob')), 'pushing out client-3, now the least recently seen');
  perform tests.join_room(v_room, 'bob', null, 'client-1');
  perform tests.is(cardinality(tests.clients(v_room, 'bob')), 8, 'joining again with a known client adds none');
  perform tests.act_as('alice');
  perform tests.is(cardinality(tests.clients(v_room, 'alice')), 1, 'the cap is per person: alice''s client stays');
end $$;

-- leave per client: the person stays while a client is left
do $$
declare
  v_room text := tests.get('room');
  v jsonb;
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  -- Only clients that have beaten keep a person in (below): these all have.
  update watchparty_private.room_clients set last_seen = joined_at + interval '1 second'
  where room_id = v_room and user_id = tests.uid('bob');
  perform tests.act_as('bob');
  v := public.leave_room(v_room, null, 'client-1');
  perform tests.is(v #>> '{room,room_id}', v_room, 'leaving one client replies with the room');
  perform tests.ok((tests.member(v_room, 'bob')).left_at is null, 'and bob is still a member');
  perform tests.ok(not 'client-1' = any(tests.clients(v_room, 'bob')), 'without that client');
  perform public.leave_room(v_room, null, 'nosuchclient');
  perform tests.ok((tests.member(v_room, 'bob')).left_at is null, 'leaving an unknown client changes nothing');
  perform tests.is(cardinality(tests.clients(v_room, 'bob')), 7, '(seven clients left)');
  for i in 4..10 loop
    perform public.leave_room(v_room, null, 'client-' || i);
  end loop;
  perform tests.ok((tests.member(v_room, 'bob')).left_at is not null, 'the last client''s leave is the person''s');
  perform tests.is(tests.clients(v_room, 'bob'), '{}'::text[], 'with no client left');
  perform tests.ok(not (tests.member(v_room, 'bob')).is_playing and (tests.member(v_room, 'bob')).role = 'member',
    'a leaver is not playing, and a member');
  perform tests.throws(format('select public.leave_room(%L, null, %L)', v_room, 'client-1'), 'PT403', 'NOT_MEMBER',
    'a leave with a client_id by one who left');

  perform tests.join_room(v_room, 'bob', null, 'client-a');
  perform tests.join_room(v_room, 'bob', null, 'client-b');
  perform public.leave_room(v_room);
  perform tests.ok((tests.member(v_room, 'bob')).left_at is not null, 'a leave without client_id ends every client');
  perform tests.is(tests.clients(v_room, 'bob'), '{}'::text[], '(none left)');

  -- A client that never beat (the one `watchparty create` makes, a window whose join failed)
  -- keeps nobody in.
  perform tests.act_as_admin();
  perform tests.reset_rates();
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob', null, 'client-a');
  perform tests.join_room(v_room, 'bob', null, 'client-b');
  perform public.leave_room(v_room, null, 'client-a');
  perform tests.ok((tests.member(v_room, 'bob')).left_at is not null,
    'the last client that beat leaving takes the person out, whatever never beat is left');
end $$;

-- announce: at the first beat, once; an unannounced member's leave posts nothing
do $$
declare
  v_room text := tests.get('room');
  v jsonb;
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  delete from public.comments where room_id = v_room;
  perform tests.act_as('carol');
  v := tests.join_room(v_room, 'carol');
  perform tests.is(v -> 'member' -> 'announced', 'false'::jsonb, 'a joiner is unannounced');
  perform tests.ok(v -> 'members' @> jsonb_build_array(jsonb_build_object('user_id', tests.uid('carol'), 'announced', false)),
    'and listed (clients hide unannounced members)');
  perform tests.is(tests.notices(v_room), '{}'::text[], 'a join posts no notice');
  perform public.leave_room(v_room);
  perform tests.is(tests.notices(v_room), '{}'::text[], 'nor does the leave of an unannounced member');

  perform tests.join_room(v_room, 'carol');
  perform tests.beat(v_room);
  perform tests.ok((tests.member(v_room, 'carol')).announced, 'the first beat announces');
  perform tests.is(tests.notices(v_room), array['carol joined the room'], 'with the join notice');
  perform tests.beat(v_room);
  perform tests.join_room(v_room, 'carol');
  perform tests.is(tests.notices(v_room), array['carol joined the room'], 'later beats and joins post nothing');
  perform public.leave_room(v_room);
  perform tests.is(tests.notices(v_room), array['carol joined the room', 'carol left the room'], 'an announced member''s leave is told');

  perform tests.join_room(v_room, 'carol');
  perform tests.ok(not (tests.member(v_room, 'carol')).announced, 'a rejoin is unannounced again');
  perform public.track_user_presence(v_room, null, '1', 'false', '"carol-new"');
  perform tests.is(tests.notices(v_room), array['carol joined the room', 'carol left the room', 'carol joined the room'],
    'and announced again at its first beat');
end $$;

-- beats and clients: a beat without client_id refreshes every client of the caller, or adds one
do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.act_as('carol');
  perform tests.quiet(v_room, 'carol', interval '5 seconds');
  perform tests.beat(v_room);
  perform tests.act_as_admin();
  perform tests.ok((select bool_and(last_seen = now()::timestamptz(3)) from watchparty_private.room_clients
                    where room_id = v_room and user_id = tests.uid('carol')), 'a beat without client_id refreshes every client');
  delete from watchparty_private.room_clients where room_id = v_room and user_id = tests.uid('carol');
  perform tests.act_as('carol');
  perform tests.beat(v_room);
  perform tests.is(cardinality(tests.clients(v_room, 'carol')), 1, 'a beat of a member with no client adds one');
  perform tests.quiet(v_room, 'carol', interval '5 seconds');
  perform public.track_user_presence(v_room, null, '1', 'false', to_jsonb((tests.clients(v_room, 'carol'))[1]));
  perform tests.is((tests.member(v_room, 'carol')).last_seen, now()::timestamptz(3), 'a beat with a client_id refreshes the member row');
end $$;

-- silence: the host silent for stale_after (15 s) hands over to the longest-present live member,
-- announced first
do $$
declare
  v_room text;
  v_version bigint;
  v_name text;
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice', p_media_duration => 1000) #>> '{room,room_id}';
  perform tests.set('quiet', v_room);
  perform public.control_room(v_room, 'play', 100);
  perform tests.act_as('dave');
  perform tests.join_room(v_room, 'dave');  -- never beats: unannounced
  foreach v_name in array array['carol', 'bob', 'erin'] loop
    perform tests.act_as(v_name);
    perform tests.join_room(v_room, v_name);
    perform tests.beat(v_room);
  end loop;
  perform tests.act_as_admin();
  update public.room_members m set joined_at = now() - j.ago
  from (values ('alice', interval '6 minutes'), ('dave', interval '5 minutes'), ('carol', interval '4 minutes'),
               ('bob', interval '3 minutes'), ('erin', interval '2 minutes')) j(name, ago)
  where m.room_id = v_room and m.user_id = tests.uid(j.name);
  delete from public.comments where room_id = v_room;
  perform tests.quiet(v_room, 'carol', interval '20 seconds');
  perform tests.quiet(v_room, 'alice', interval '14 seconds');

  perform tests.act_as('bob');
  perform tests.beat(v_room);
  perform tests.is((tests.room(v_room)).host_user_id, tests.uid('alice'), 'a host quiet for 14 s stays host');

  perform tests.quiet(v_room, 'alice', interval '16 seconds');
  perform tests.act_as_admin();
  update public.rooms set updated_at = now() - interval '10 seconds' where room_id = v_room;
  v_version := (tests.room(v_room)).state_version;
  perform tests.act_as('bob');
  perform tests.beat(v_room);
  perform tests.is((tests.room(v_room)).host_user_id, tests.uid('bob'),
    'quiet for 16 s, the host hands over to bob: announced (not dave), live (not carol), longest present (not erin)');
  perform tests.is((tests.member(v_room, 'bob')).role, 'host', 'bob''s role is host');
  perform tests.ok((tests.member(v_room, 'alice')).role = 'member' and (tests.member(v_room, 'alice')).left_at is null,
    'alice is a member, still in the room');
  perform tests.is((tests.room(v_room)).state_version, v_version + 1, 'a new state_version');
  perform tests.ok(abs((tests.room(v_room))."current_time" - 110) < 0.002, 'the position restated at now (100 + 10 s played)');
  perform tests.is((tests.room(v_room)).updated_at, now()::timestamptz(3), 'updated_at is the hand-over time');
  perform tests.is(tests.notices(v_room), array['bob is now the host (alice went quiet)'], 'the hand-over is told');
  perform tests.is((tests.room(v_room)).owner_handed_over, false, 'a silent owner did not hand the room over on purpose');

  perform tests.beat(v_room);
  perform tests.is(cardinality(tests.notices(v_room)), 1, 'the next beat changes nothing');

  -- owner return on a beat
  perform tests.act_as('alice');
  perform tests.beat(v_room);
  perform tests.is((tests.room(v_room)).host_user_id, tests.uid('alice'), 'the owner''s next beat makes her host again');
  perform tests.ok((tests.member(v_room, 'alice')).role = 'host' and (tests.member(v_room, 'bob')).role = 'member', 'roles follow');
  perform tests.is((tests.room(v_room)).state_version, v_version + 2, 'a new state_version again');
  perform tests.is(tests.notices(v_room), array['bob is now the host (alice went quiet)', 'alice is back and is the host again'],
    'the return is told');
end $$;

-- owner return on a join; the leave's heir is announced first (carol, silent but current, before
-- dave, who joined earlier but was never announced)
do $$
declare
  v_room text := tests.get('quiet');
  v jsonb;
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  delete from public.comments where room_id = v_room;
  perform tests.act_as('alice');
  perform tests.is(public.leave_room(v_room) #>> '{room,host_user_id}', tests.uid('carol')::text,
    'the owner''s leave hands over: announced first, then the longest present');
  v := tests.join_room(v_room, 'alice');
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('alice')::text, 'the owner''s join makes her host again');
  perform tests.is(v #>> '{member,role}', 'host', 'her member row says so');
  perform tests.ok(v -> 'members' @> jsonb_build_array(jsonb_build_object('user_id', tests.uid('carol'), 'role', 'member')),
    'carol is a member again');
  perform tests.is(tests.notices(v_room), array['alice left the room', 'carol is now the host', 'alice is back and is the host again'],
    'no join notice (alice is unannounced until her beat), the return is told');
  perform tests.beat(v_room);
  perform tests.is((tests.notices(v_room))[4], 'alice joined the room', 'her first beat announces her');
  perform tests.join_room(v_room, 'alice');
  perform tests.is(cardinality(tests.notices(v_room)), 4, 'the host owner joining again changes nothing');
end $$;

-- drop-out: clients silent for gone_after (45 s) are gone, and so is a member with none left
do $$
declare
  v_room text := tests.get('quiet');
begin
  perform tests.act_as_admin();
  delete from public.comments where room_id = v_room;
  perform tests.quiet(v_room, 'carol', interval '46 seconds');
  perform tests.quiet(v_room, 'dave', interval '46 seconds');
  perform tests.quiet(v_room, 'erin', interval '44 seconds');
  perform tests.act_as('bob');
  perform tests.beat(v_room);
  perform tests.ok((tests.member(v_room, 'carol')).left_at = now()::timestamptz(3), 'carol, quiet 46 s, dropped out');
  perform tests.ok((tests.member(v_room, 'dave')).left_at is not null, 'dave too');
  perform tests.ok((tests.member(v_room, 'erin')).left_at is null, 'erin, quiet 44 s, is still in');
  perform tests.is(tests.notices(v_room), array['carol dropped out'], 'an announced member''s drop-out is told, not dave''s');
  perform tests.is(tests.clients(v_room, 'carol'), '{}'::text[], 'carol''s clients are gone');

  -- a member with one gone client and one live stays
  perform tests.act_as('erin');
  perform tests.join_room(v_room, 'erin', null, 'erin-second');
  perform tests.act_as_admin();
  update watchparty_private.room_clients set last_seen = now() - interval '1 minute'
  where room_id = v_room and user_id = tests.uid('erin') and client_id <> 'erin-second';
  perform tests.act_as('bob');
  perform tests.beat(v_room);
  perform tests.is(tests.clients(v_room, 'erin'), array['erin-second'], 'a gone client goes');
  perform tests.ok((tests.member(v_room, 'erin')).left_at is null, 'and its person stays while another is live');
end $$;

-- drop-out of the host: the others who drop go first, so the heir is one who stays
do $$
declare
  v_room text := tests.get('quiet');
  v_version bigint;
begin
  perform tests.act_as_admin();
  delete from public.comments where room_id = v_room;
  perform tests.quiet(v_room, 'alice', interval '50 seconds');
  perform tests.quiet(v_room, 'erin', interval '50 seconds');
  v_version := (tests.room(v_room)).state_version;
  perform tests.act_as('bob');
  perform tests.beat(v_room);
  perform tests.is((tests.room(v_room)).host_user_id, tests.uid('bob'), 'the host dropped out: bob, who stays, is host');
  perform tests.is(tests.notices(v_room), array['erin dropped out', 'alice dropped out', 'bob is now the host (alice went quiet)'],
    'the drop-outs and the hand-over are told');
  perform tests.is((tests.room(v_room)).state_version, v_version + 1, 'one new state_version');
  perform tests.ok((tests.member(v_room, 'alice')).role = 'member' and not (tests.member(v_room, 'alice')).is_playing,
    'the old host is a member, not playing');

  perform tests.act_as('alice');
  perform tests.is(tests.join_room(v_room, 'alice') #>> '{room,host_user_id}', tests.uid('alice')::text,
    'the owner who dropped out is host again when she joins');
end $$;

-- rooms/handover
do $$
declare
  v_room text;
  v jsonb;
  v_msg constant text := 'to_user_id must be another current member of the room';
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('handover', v_room);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform tests.beat(v_room);
  perform tests.act_as('carol');
  perform tests.join_room(v_room, 'carol');
  perform tests.act_as('erin');
  perform tests.join_room(v_room, 'erin');
  perform public.leave_room(v_room);

  perform tests.act_as('bob');
  perform tests.throws(format('select public.handover_room(%L, %L)', v_room, tests.uid('carol')), 'PT403', 'NOT_HOST',
    'a member who is not host cannot hand over');
  perform tests.act_as('dave');
  perform tests.throws(format('select public.handover_room(%L, %L)', v_room, tests.uid('bob')), 'PT403', 'NOT_MEMBER',
    'an outsider cannot');
  perform tests.act_as_anon();
  perform tests.throws(format('select public.handover_room(%L, %L)', v_room, tests.uid('bob')), 'PT401', 'UNAUTHORIZED',
    'the anon key cannot');
  perform tests.act_as('alice');
  perform tests.throws(format('select public.handover_room(%L, %L)', 'zzzzzzzzzz', tests.uid('bob')), 'PT404', 'ROOM_NOT_FOUND',
    'an unknown room');
  perform tests.throws(format('select public.handover_room(%L, %L)', 'ZZ', tests.uid('bob')), 'PT404', 'ROOM_NOT_FOUND',
    'a malformed room id');
  perform tests.throws(format('select public.handover_room(%L)', v_room), 'PT400', 'INVALID_REQUEST', 'no to_user_id');
  perform tests.throws(format('select public.handover_room(%L, %L, %L)', v_room, tests.uid('bob'), tests.uid('bob')),
    'PT403', 'USER_MISMATCH', 'a user_id that is not the caller');
  perform tests.throws_message(format('select public.handover_room(%L, %L)', v_room, tests.uid('alice')),
    'PT400', 'INVALID_REQUEST', v_msg, 'not to oneself');
  perform tests.throws_message(format('select public.handover_room(%L, %L)', v_room, tests.uid('dave')),
    'PT400', 'INVALID_REQUEST', v_msg, 'not to an outsider');
  perform tests.throws_message(format('select public.handover_room(%L, %L)', v_room, tests.uid('erin')),
    'PT400', 'INVALID_REQUEST', v_msg, 'not to one who left');
  perform tests.throws_message(format('select public.handover_room(%L, %L)', v_room, 'not-a-uuid'),
    'PT400', 'INVALID_REQUEST', v_msg, 'not to an id that is no uuid');

  perform tests.act_as_admin();
  delete from public.comments where room_id = v_room;
  perform tests.act_as('alice');
  v := public.handover_room(v_room, tests.uid('bob')::text);
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('bob')::text, 'the owner hands the room to bob');
  perform tests.is(v -> 'room' -> 'owner_handed_over', 'true'::jsonb, 'on purpose: owner_handed_over');
  perform tests.is(v -> 'room' -> 'state_version', '1'::jsonb, 'a new state_version');
  perform tests.ok((tests.member(v_room, 'alice')).role = 'member' and (tests.member(v_room, 'bob')).role = 'host', 'roles follow');
  perform tests.is(tests.notices(v_room), array['alice handed the host role to bob'], 'the hand-over is told');
  perform tests.throws(format('select public.control_room(%L, %L, 1)', v_room, 'play'), 'PT403', 'NOT_HOST', 'alice controls no more');

  perform tests.beat(v_room);
  perform tests.is((tests.room(v_room)).host_user_id, tests.uid('bob'), 'the owner''s beat does not take the room back');
  perform public.leave_room(v_room);
  perform tests.join_room(v_room, 'alice');
  perform tests.is((tests.room(v_room)).host_user_id, tests.uid('bob'), 'nor does her rejoin');

  perform tests.act_as('bob');
  v := public.handover_room(v_room, tests.uid('carol')::text);
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('carol')::text, 'bob hands to carol (unannounced: still a current member)');
  perform tests.is(v -> 'room' -> 'owner_handed_over', 'true'::jsonb, 'between others owner_handed_over stays');
  perform tests.act_as('carol');
  v := public.handover_room(v_room, tests.uid('alice')::text);
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('alice')::text, 'carol hands to the owner');
  perform tests.is(v -> 'room' -> 'owner_handed_over', 'false'::jsonb, 'which clears owner_handed_over');
  perform tests.is(tests.notices(v_room), array['alice handed the host role to bob', 'alice left the room',
    'bob handed the host role to carol', 'carol handed the host role to alice'], 'each hand-over is told');

  -- owner_handed_over is cleared whenever the owner is host again, by a silent host's hand-over too
  perform tests.act_as('alice');
  perform public.handover_room(v_room, tests.uid('bob')::text);
  perform tests.quiet(v_room, 'bob', interval '20 seconds');
  perform tests.quiet(v_room, 'carol', interval '20 seconds');
  perform tests.beat(v_room);
  perform tests.is((tests.room(v_room)).host_user_id, tests.uid('alice'), 'the owner, the only live member, inherits from silent bob');
  perform tests.is((tests.room(v_room)).owner_handed_over, false, 'and owner_handed_over is false again');
end $$;

-- rooms/handover counts against the control rate (20 in 10 s)
do $$
declare
  v_room text := tests.get('handover');
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  perform tests.act_as('alice');
  for i in 1..19 loop
    perform public.control_room(v_room, 'seek', i);
  end loop;
  perform public.handover_room(v_room, tests.uid('bob')::text);
  perform tests.act_as('bob');
  perform public.handover_room(v_room, tests.uid('alice')::text);
  perform tests.act_as('alice');
  perform tests.throws(format('select public.handover_room(%L, %L)', v_room, tests.uid('bob')), 'PT429', 'RATE_LIMITED',
    'the 21st control or hand-over in 10 s is refused');
  perform tests.throws(format('select public.control_room(%L, %L, 1)', v_room, 'play'), 'PT429', 'RATE_LIMITED',
    'and so is the next control');
end $$;

-- the settings: one row, gone after stale, both at least a second; private
do $$
declare
  v_room text := tests.get('handover');
begin
  perform tests.act_as_admin();
  perform tests.is((select array[stale_after, gone_after] from watchparty_private.liveness),
    array[interval '15 seconds', interval '45 seconds'], 'the defaults: stale after 15 s, gone after 45 s');
  perform tests.throws('insert into watchparty_private.liveness default values', '23505', null, 'one row only');
  perform tests.throws('update watchparty_private.liveness set gone_after = stale_after', '23514', null, 'gone_after must exceed stale_after');
  perform tests.throws('update watchparty_private.liveness set stale_after = ''500 ms''', '23514', null, 'stale_after at least 1 s');
  update watchparty_private.liveness set stale_after = '1 second', gone_after = '2 seconds';
  perform tests.quiet(v_room, 'bob', interval '3 seconds');
  perform tests.quiet(v_room, 'carol', interval '3 seconds');
  perform tests.act_as('alice');
  perform tests.beat(v_room);
  perform tests.ok((tests.member(v_room, 'bob')).left_at is not null and (tests.member(v_room, 'carol')).left_at is not null,
    'with gone_after 2 s, members quiet for 3 s drop out');

  perform tests.act_as('alice');
  perform tests.throws('select count(*) from watchparty_private.room_clients', '42501', null, 'clients are private');
  perform tests.throws('select count(*) from watchparty_private.liveness', '42501', null, 'the settings are private');
  perform tests.throws('select count(*) from watchparty_private.member_order', '42501', null, 'the member order is private');
  perform tests.throws('select watchparty_private.sweep_room(null::public.rooms)', '42501', null, 'the sweep is not callable');
  perform tests.ok((select bool_and(p.prosecdef) from pg_proc p where p.pronamespace = 'public'::regnamespace
    and p.proname in ('handover_room', 'create_room', 'join_room', 'leave_room', 'track_user_presence')),
    'the new and changed room functions are security definer');
  perform tests.is((select count(*) from pg_proc p where p.pronamespace = 'public'::regnamespace
    and p.proname in ('create_room', 'join_room', 'leave_room', 'track_user_presence')), 4::bigint,
    'one function per name (PostgREST cannot pick between overloads)');
  perform tests.is((select array_agg(tablename::text order by tablename) from pg_publication_tables where pubname = 'supabase_realtime'),
    array['comments', 'room_members', 'room_queue', 'rooms'], 'the publication is unchanged (no private table in it; room_queue since the queue migration)');
end $$;

-- On a joined_at tie (one transaction: one now()), lists and heirs go by insertion order, not by
-- the random user ids.
do $$
declare
  v_room text;
  v jsonb;
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  perform tests.act_as('erin');
  v_room := public.create_room(p_username => 'erin') #>> '{room,room_id}';
  perform tests.act_as('dave');
  perform tests.join_room(v_room, 'dave');
  perform tests.act_as('carol');
  perform tests.join_room(v_room, 'carol');
  perform tests.act_as('bob');
  v := tests.join_room(v_room, 'bob');
  perform tests.is((select array_agg(e ->> 'username') from jsonb_array_elements(v -> 'members') e),
    array['erin', 'dave', 'carol', 'bob'], 'members with one joined_at are listed in insertion order');
  perform tests.act_as('erin');
  perform tests.is(public.leave_room(v_room) #>> '{room,host_user_id}', tests.uid('dave')::text,
    'and the first inserted is heir');
  perform tests.act_as('bob');
  perform tests.beat(v_room);
  perform tests.act_as('dave');
  perform tests.is(public.leave_room(v_room) #>> '{room,host_user_id}', tests.uid('bob')::text,
    'but announced members come first');
end $$;
