-- watchparty: who is in a room, and who is its host, over time (GitHub-style issue 12).
--
-- What this migration changes, on top of the trust migration (everything here is additive,
-- `create or replace`, or — for the API functions whose arguments grow — drop and create, because
-- PostgREST cannot choose between two overloads of one function name):
--
--   clients      a person's terminals in a room are clients (client_id, ^[A-Za-z0-9_-]{8,64}$,
--                made by the server when a join has none): watchparty_private.room_clients, at
--                most 8 per person and room (the 9th pushes out the least recently seen). A
--                leave with a client_id ends that client only; the person leaves with the last.
--   announce     room_members.announced: "<name> joined the room" is posted at the member's
--                first liveness beat (track_user_presence), not at the join, so a join that never
--                gets going (a script, a crash at start) posts nothing, and nor does its leave.
--   owner        rooms.owner_user_id (the creator, never changes) and rooms.owner_handed_over
--                (the owner gave the host role away on purpose). An owner who comes back (join or
--                beat) while someone else holds the room, not having handed it over, is host again.
--   liveness     a lazy sweep per room, run by every beat: clients silent for gone_after (45 s)
--                are deleted and members with no client left drop out; a host silent for
--                stale_after (15 s) hands over to the longest-present live member. Settings in
--                watchparty_private.liveness (docs/deploy-supabase.md).
--   handover     public.handover_room (rooms/handover): the host hands the role to a member.
--
-- The spec of the contract (both backends): docs/api.md.

-- ---------------------------------------------------------------------------------------------
-- columns

alter table public.rooms add column owner_user_id uuid;
alter table public.rooms add column owner_handed_over boolean not null default false;
-- Existing rooms: the host is the best guess of the creator (rooms/create made the creator host,
-- and only leaves have moved the role since).
update public.rooms set owner_user_id = host_user_id;
alter table public.rooms alter column owner_user_id set not null;
comment on column public.rooms.owner_user_id is 'the room''s creator; never changes';
comment on column public.rooms.owner_handed_over is
  'true while the owner has handed the host role away on purpose (rooms/handover); cleared when the owner is host again';

-- Existing members were announced by their join, under the old rule: default true fills them
-- (without rewriting the table), then new rows start unannounced.
alter table public.room_members add column announced boolean not null default true;
alter table public.room_members alter column announced set default false;
comment on column public.room_members.announced is
  'the member has been announced ("<name> joined the room"), at their first liveness beat; clients hide unannounced members';

-- A room written without an owner (the service role, a dashboard edit) is owned by its host, so
-- the not-null column never refuses what the table accepted before.
create function watchparty_private.default_owner()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.owner_user_id := coalesce(new.owner_user_id, new.host_user_id);
  return new;
end
$$;
create trigger rooms_default_owner before insert on public.rooms
  for each row execute function watchparty_private.default_owner();

-- ---------------------------------------------------------------------------------------------
-- private tables

-- Insertion order of member rows, the last tie-break of the heir order and of member lists (two
-- joins can share a millisecond of joined_at). Kept out of room_members on purpose: every column
-- of room_members goes to Realtime subscribers, and the row's columns are the contract (the
-- embedded server uses SQLite's implicit rowid for the same order). ctid is no substitute: every
-- UPDATE of a row (each beat) moves it. A rejoin reuses the row, so it keeps its place, as the
-- rowid does.
create table watchparty_private.member_order (
  room_id  text not null,
  user_id  uuid not null,
  seq      bigint generated always as identity,
  primary key (room_id, user_id),
  foreign key (room_id, user_id) references public.room_members (room_id, user_id) on delete cascade
);

create function watchparty_private.number_member()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into watchparty_private.member_order (room_id, user_id) values (new.room_id, new.user_id)
  on conflict do nothing;
  return null;
end
$$;
create trigger room_members_number after insert on public.room_members
  for each row execute function watchparty_private.number_member();

-- Existing rows in the order their lists had (joined_at, the host first on a tie, user id).
insert into watchparty_private.member_order (room_id, user_id)
select room_id, user_id from public.room_members order by joined_at, role = 'host' desc, user_id;

-- A person's clients in a room (terminals, scripts that joined): each beat refreshes its client's
-- last_seen; a client silent for gone_after is gone. seq is the insertion order, the tie-break
-- when the cap pushes out the least recently seen.
create table watchparty_private.room_clients (
  room_id    text not null references public.rooms (room_id) on delete cascade,
  user_id    uuid not null references auth.users (id) on delete cascade,
  client_id  text not null check (client_id ~ '^[A-Za-z0-9_-]{8,64}$'),
  joined_at  timestamptz(3) not null default now(),
  last_seen  timestamptz(3) not null default now(),
  seq        bigint generated always as identity,
  primary key (room_id, user_id, client_id)
);
-- The sweep deletes a room's clients by last_seen; the primary key serves the per-person lookups
-- (cap, leave, "has this member any client left").
create index room_clients_room_seen_idx on watchparty_private.room_clients (room_id, last_seen);

-- Liveness settings, one row. stale_after: a host silent this long hands over to a live member
-- (and a member is live within it); gone_after: a client silent this long is gone.
create table watchparty_private.liveness (
  stale_after  interval not null default interval '15 seconds',
  gone_after   interval not null default interval '45 seconds',
  check (stale_after >= interval '1 second' and gone_after > stale_after)
);
create unique index liveness_one_row on watchparty_private.liveness ((true));
insert into watchparty_private.liveness default values;
comment on table watchparty_private.liveness is
  'one row: stale_after (host hand-over on silence), gone_after (clients drop out); docs/deploy-supabase.md';

alter table watchparty_private.member_order enable row level security;
alter table watchparty_private.room_clients enable row level security;
alter table watchparty_private.liveness enable row level security;
revoke all on watchparty_private.member_order, watchparty_private.room_clients, watchparty_private.liveness
  from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- helpers

-- The settings, with the defaults should the row be missing.
create function watchparty_private.liveness_settings(out stale_after interval, out gone_after interval)
language sql
stable
set search_path = ''
as $$
  select coalesce((select l.stale_after from watchparty_private.liveness l limit 1), interval '15 seconds'),
         coalesce((select l.gone_after from watchparty_private.liveness l limit 1), interval '45 seconds')
$$;

create function watchparty_private.check_client_id(p_client_id text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_client_id is not null and p_client_id !~ '^[A-Za-z0-9_-]{8,64}$' then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'client_id must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -');
  end if;
end
$$;

-- 22 characters of [A-Za-z0-9_-] (132 random bits) from gen_random_uuid's random bytes; 64
-- divides 256, so byte % 64 picks every character equally often.
create function watchparty_private.new_client_id()
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_alphabet constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  v_id text := '';
  v_bytes bytea;
begin
  while char_length(v_id) < 22 loop
    v_bytes := uuid_send(gen_random_uuid());
    for i in 0..15 loop
      -- bytes 6 and 8 carry the uuid's version and variant bits: not random.
      continue when i in (6, 8);
      v_id := v_id || substr(v_alphabet, get_byte(v_bytes, i) % 64 + 1, 1);
      exit when char_length(v_id) = 22;
    end loop;
  end loop;
  return v_id;
end
$$;

-- Adds the client (a new id when p_client_id is null) or refreshes its last_seen; returns its id.
-- A person has at most 8 clients per room: a new one first pushes out the least recently seen
-- (then the oldest inserted) beyond 7. Callers hold the room's row lock.
-- A client that has never beaten is marked by last_seen just before joined_at (1 ms): it keeps
-- nobody in the room (rooms/leave). A beat sets last_seen to now, at or after joined_at even in
-- the join's own millisecond.
create function watchparty_private.add_client(p_room_id text, p_uid uuid, p_client_id text, p_beat boolean default false)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id text := coalesce(p_client_id, watchparty_private.new_client_id());
  v_seen timestamptz := case when p_beat then now() else now() - interval '1 millisecond' end;
begin
  update watchparty_private.room_clients set last_seen = greatest(last_seen, v_seen)
  where room_id = p_room_id and user_id = p_uid and client_id = v_id;
  if found then
    return v_id;
  end if;
  delete from watchparty_private.room_clients
  where room_id = p_room_id and user_id = p_uid and client_id in (
    select c.client_id from watchparty_private.room_clients c
    where c.room_id = p_room_id and c.user_id = p_uid
    order by c.last_seen desc, c.seq desc
    offset 7);
  insert into watchparty_private.room_clients (room_id, user_id, client_id, joined_at, last_seen)
  values (p_room_id, p_uid, v_id, now(), v_seen);
  return v_id;
end
$$;

-- The heir of a host who stops being host: the current members other than p_except (live since
-- p_live_since when given), announced first, then the longest present, then insertion order.
-- A row of nulls when there is none.
create function watchparty_private.heir(p_room_id text, p_except uuid, p_live_since timestamptz)
returns public.room_members
language sql
stable
set search_path = ''
as $$
  select m.* from public.room_members m
  left join watchparty_private.member_order o on o.room_id = m.room_id and o.user_id = m.user_id
  where m.room_id = p_room_id and m.left_at is null and m.user_id <> p_except
    and (p_live_since is null or m.last_seen >= p_live_since)
  order by m.announced desc, m.joined_at, o.seq
  limit 1
$$;

-- Makes p_to the host of p_room (the row as locked by the caller) and posts p_message. A new host
-- publishes from now on: the position is restated at now (so followers keep it) under a new
-- state_version. owner_handed_over: false when p_to is the owner (the owner is host again, any
-- way), else p_owner_handed_over when given, else unchanged. Returns the new room row.
create function watchparty_private.transfer_host(
  p_room                public.rooms,
  p_to                  uuid,
  p_message             text,
  p_owner_handed_over   boolean default null
)
returns public.rooms
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_room public.rooms;
begin
  update public.room_members set role = 'member'
  where room_id = p_room.room_id and role = 'host' and user_id <> p_to;
  update public.room_members set role = 'host'
  where room_id = p_room.room_id and user_id = p_to and role <> 'host';
  update public.rooms set
    host_user_id = p_to,
    owner_handed_over = case when p_to = owner_user_id then false
                             else coalesce(p_owner_handed_over, owner_handed_over) end,
    "current_time" = watchparty_private.position_at(p_room, now()),
    state_version = state_version + 1,
    updated_at = now()
  where room_id = p_room.room_id
  returning * into v_room;
  perform watchparty_private.system_comment(v_room, p_message);
  return v_room;
end
$$;

-- Owner return: the owner, a current member again (join) or still (beat), is host again unless
-- they handed the room over on purpose. Not rate limited: it happens at most once per return.
create function watchparty_private.owner_return(p_room public.rooms, p_uid uuid, p_name text)
returns public.rooms
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_room.owner_user_id = p_uid and p_room.host_user_id <> p_uid and not p_room.owner_handed_over then
    return watchparty_private.transfer_host(p_room, p_uid, p_name || ' is back and is the host again');
  end if;
  return p_room;
end
$$;

-- The person p_uid leaves p_room (a leave, or a drop-out when p_dropped): their clients go,
-- left_at now, role member, not playing — an UPDATE, never a DELETE (Realtime applies no row
-- security to DELETEs). "<name> left the room" / "<name> dropped out" only for an announced member
-- (nobody was told they came) and within the notice rate. A leaving host hands over to the heir.
-- Returns the room row. Callers hold the room's row lock.
create function watchparty_private.member_leaves(p_room public.rooms, p_uid uuid, p_dropped boolean)
returns public.rooms
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_room public.rooms := p_room;
  v_member public.room_members;
  v_heir public.room_members;
begin
  delete from watchparty_private.room_clients where room_id = p_room.room_id and user_id = p_uid;
  update public.room_members set left_at = now(), role = 'member', is_playing = false
  where room_id = p_room.room_id and user_id = p_uid and left_at is null
  returning * into v_member;
  if not found then
    return v_room;
  end if;

  if v_member.announced and watchparty_private.take_notice(p_room.room_id, p_uid) then
    perform watchparty_private.system_comment(v_room,
      v_member.username || case when p_dropped then ' dropped out' else ' left the room' end);
  end if;

  if v_room.host_user_id = p_uid then
    v_heir := watchparty_private.heir(p_room.room_id, p_uid, null);
    if v_heir.user_id is not null then
      v_room := watchparty_private.transfer_host(v_room, v_heir.user_id, v_heir.username || ' is now the host'
        || case when p_dropped then ' (' || v_member.username || ' went quiet)' else '' end);
    end if;
    -- Nobody left: host_user_id stays, and the host gets the room back by joining again.
  end if;
  return v_room;
end
$$;

-- The liveness sweep of one room at now(), run by every beat (track_user_presence) under the
-- room's row lock. Lazy on purpose: every live member beats every 3 s, so a room with anyone live
-- is swept every few seconds without a scheduler (pg_cron), and a room where nobody beats has
-- nobody to tell (the next beat or join finds it as it should be: joins refresh the joiner only,
-- and a beat sweeps before anyone reads the result).
--   1. Gone clients (last_seen before now − gone_after) are deleted; every current member with no
--      client left drops out (the host last, so that the heir is one who stays).
--   2. A current host silent for stale_after hands over to the longest-present live member.
create function watchparty_private.sweep_room(p_room public.rooms)
returns public.rooms
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_room public.rooms := p_room;
  v_live record;
  v_gone record;
  v_host public.room_members;
  v_heir public.room_members;
begin
  select * into v_live from watchparty_private.liveness_settings();
  delete from watchparty_private.room_clients
  where room_id = v_room.room_id and last_seen < now() - v_live.gone_after;

  for v_gone in
    select m.user_id from public.room_members m
    left join watchparty_private.member_order o on o.room_id = m.room_id and o.user_id = m.user_id
    where m.room_id = v_room.room_id and m.left_at is null
      and not exists (select 1 from watchparty_private.room_clients c
                      where c.room_id = m.room_id and c.user_id = m.user_id)
    order by m.user_id = v_room.host_user_id, m.announced desc, m.joined_at, o.seq
  loop
    v_room := watchparty_private.member_leaves(v_room, v_gone.user_id, true);
  end loop;

  select * into v_host from public.room_members
  where room_id = v_room.room_id and user_id = v_room.host_user_id and left_at is null;
  if found and v_host.last_seen < now() - v_live.stale_after then
    v_heir := watchparty_private.heir(v_room.room_id, v_host.user_id, now() - v_live.stale_after);
    if v_heir.user_id is not null then
      v_room := watchparty_private.transfer_host(v_room, v_heir.user_id,
        v_heir.username || ' is now the host (' || v_host.username || ' went quiet)');
    end if;
  end if;
  return v_room;
end
$$;

-- Counts one control-rate event (sync/control and rooms/handover share it: 20 per 10 s per user
-- and room), or raises 429. Callers hold the room's row lock.
create function watchparty_private.take_control(p_room_id text, p_uid uuid)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  delete from watchparty_private.control_events
  where room_id = p_room_id and user_id = p_uid and at <= now() - interval '10 seconds';
  if (select count(*) from watchparty_private.control_events where room_id = p_room_id and user_id = p_uid) >= 20 then
    perform watchparty_private.fail(429, 'RATE_LIMITED', 'more than 20 controls in 10 s');
  end if;
  insert into watchparty_private.control_events (room_id, user_id) values (p_room_id, p_uid);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rows as JSON: room_json and member_json (earlier migrations) build on to_jsonb, so the new
-- columns (rooms.owner_user_id, owner_handed_over; room_members.announced) appear in every reply
-- under their own names without redefining them.

-- The current members (unannounced ones too: clients hide them), in the order they joined, and
-- on a millisecond tie in insertion order, as the embedded server lists them (was: the host
-- first, then user id, which is random; a room's creator is inserted first anyway).
create or replace function watchparty_private.members_json(p_room_id text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(watchparty_private.member_json(m) order by m.joined_at, o.seq), '[]')
  from public.room_members m
  left join watchparty_private.member_order o on o.room_id = m.room_id and o.user_id = m.user_id
  where m.room_id = p_room_id and m.left_at is null
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/create: as before, plus the creator's client (p_client_id, or a new one: data.client_id),
-- owner_user_id = the creator, and the creator announced (a creator's notice was never posted).

drop function public.create_room(text, text, text, double precision, text, integer, text);
create function public.create_room(
  p_username        text default null,
  p_media_url       text default null,
  p_media_title     text default null,
  p_media_duration  double precision default null,
  p_anime_id        text default null,
  p_episode_number  integer default null,
  p_user_id         text default null,
  p_client_id       text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_name text;
  v_title text;
  v_anime text;
  v_room public.rooms;
  v_member public.room_members;
  v_client text;
begin
  if p_username is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'username is required');
  end if;
  v_name := watchparty_private.clean_username(p_username);
  perform watchparty_private.check_media_url(p_media_url);
  v_title := watchparty_private.clean_field('media_title', p_media_title, 200);
  perform watchparty_private.check_seconds('media_duration', p_media_duration);
  v_anime := watchparty_private.clean_field('anime_id', p_anime_id, 64);
  perform watchparty_private.check_client_id(p_client_id);

  perform watchparty_private.take_user_rate(v_uid, 'create_room', 10, 'more than 10 rooms created in a minute');

  loop
    begin
      insert into public.rooms (room_id, host_user_id, owner_user_id, media_url, media_title, media_duration, anime_id, episode_number)
      values (watchparty_private.new_room_id(), v_uid, v_uid, p_media_url, v_title, p_media_duration, v_anime, p_episode_number)
      returning * into v_room;
      exit;
    exception when unique_violation then
      -- a 1 in 2^51 collision: draw again
    end;
  end loop;

  insert into public.room_members (room_id, user_id, username, role, announced)
  values (v_room.room_id, v_uid, v_name, 'host', true)
  returning * into v_member;
  v_client := watchparty_private.add_client(v_room.room_id, v_uid, p_client_id);

  return jsonb_build_object(
    'room', watchparty_private.room_json(v_room),
    'member', watchparty_private.member_json(v_member),
    'client_id', v_client);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/join: adds or refreshes the caller's client (data.client_id). A current member joining
-- again (reconnect, a second terminal) keeps the role, updates the name and last_seen, and posts
-- nothing. A first join, or a join after a leave, makes the caller a current member again —
-- joined_at now, unannounced (the notice comes with the first beat), host when the room's
-- host_user_id is the caller. Then owner return: the owner is host again unless they handed the
-- room over on purpose.

drop function public.join_room(text, text, text);
create function public.join_room(
  p_room_id    text default null,
  p_username   text default null,
  p_user_id    text default null,
  p_client_id  text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_name text;
  v_room public.rooms;
  v_member public.room_members;
  v_known boolean;
  v_client text;
begin
  if p_room_id is null or p_username is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and username are required');
  end if;
  v_name := watchparty_private.clean_username(p_username);
  perform watchparty_private.check_client_id(p_client_id);
  perform watchparty_private.check_room_id(p_room_id);

  -- The row lock serialises everything that changes one room's membership (joins, leaves, beats
  -- and their sweeps, hand-overs) and the notice count.
  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;

  select * into v_member from public.room_members where room_id = p_room_id and user_id = v_uid;
  v_known := found;

  perform watchparty_private.take_user_rate(v_uid, 'join_leave', 20, 'more than 20 joins and leaves in a minute');

  if v_known and v_member.left_at is null then
    update public.room_members set username = v_name, last_seen = now()
    where room_id = p_room_id and user_id = v_uid;
  elsif v_known then
    update public.room_members set
      username = v_name,
      role = case when v_room.host_user_id = v_uid then 'host' else 'member' end,
      "current_time" = 0,
      is_playing = false,
      last_seen = now(),
      joined_at = now(),
      left_at = null,
      announced = false
    where room_id = p_room_id and user_id = v_uid;
  else
    insert into public.room_members (room_id, user_id, username, role)
    values (v_room.room_id, v_uid, v_name,
            case when v_room.host_user_id = v_uid then 'host' else 'member' end);
  end if;
  v_client := watchparty_private.add_client(p_room_id, v_uid, p_client_id);
  v_room := watchparty_private.owner_return(v_room, v_uid, v_name);

  select * into v_member from public.room_members where room_id = p_room_id and user_id = v_uid;
  return jsonb_build_object(
    'room', watchparty_private.room_json(v_room),
    'member', watchparty_private.member_json(v_member),
    'members', watchparty_private.members_json(v_room.room_id),
    'client_id', v_client);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/leave: with p_client_id, that client of the caller ends (absent is fine), and the person
-- stays while another of their clients is in the room; without, all of them end. The person
-- leaving: member_leaves (soft leave, notice when announced, a leaving host hands over).

drop function public.leave_room(text, text);
create function public.leave_room(
  p_room_id    text default null,
  p_user_id    text default null,
  p_client_id  text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_room public.rooms;
begin
  if p_room_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id is required');
  end if;
  perform watchparty_private.check_client_id(p_client_id);
  perform watchparty_private.check_room_id(p_room_id);

  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  if not exists (select 1 from public.room_members where room_id = p_room_id and user_id = v_uid and left_at is null) then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;

  perform watchparty_private.take_user_rate(v_uid, 'join_leave', 20, 'more than 20 joins and leaves in a minute');

  if p_client_id is not null then
    delete from watchparty_private.room_clients
    where room_id = p_room_id and user_id = v_uid and client_id = p_client_id;
    -- Only a client that has beaten keeps the person in: the client rooms/create makes for a
    -- script (`watchparty create`), or a window whose join failed, never has.
    if exists (select 1 from watchparty_private.room_clients
               where room_id = p_room_id and user_id = v_uid and last_seen >= joined_at) then
      return jsonb_build_object('room', watchparty_private.room_json(v_room));
    end if;
  end if;
  v_room := watchparty_private.member_leaves(v_room, v_uid, false);

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/handover: the host hands the role to another current member. The owner handing away sets
-- owner_handed_over (no owner return until they are host again); handing to the owner clears it.
-- Counts against the control rate.

create function public.handover_room(
  p_room_id     text default null,
  p_to_user_id  text default null,
  p_user_id     text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_room public.rooms;
  v_member public.room_members;
  v_target public.room_members;
begin
  if p_room_id is null or p_to_user_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and to_user_id are required');
  end if;
  perform watchparty_private.check_room_id(p_room_id);

  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  select * into v_member from public.room_members where room_id = p_room_id and user_id = v_uid and left_at is null;
  if not found then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;
  if v_room.host_user_id <> v_uid then
    perform watchparty_private.fail(403, 'NOT_HOST', 'only the host can hand the host role over');
  end if;
  -- Compared as text: an id that is no uuid is simply nobody in the room.
  select * into v_target from public.room_members
  where room_id = p_room_id and user_id::text = p_to_user_id and user_id <> v_uid and left_at is null;
  if not found then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'to_user_id must be another current member of the room');
  end if;

  perform watchparty_private.take_control(p_room_id, v_uid);

  v_room := watchparty_private.transfer_host(v_room, v_target.user_id,
    v_member.username || ' handed the host role to ' || v_target.username,
    case when v_room.owner_user_id = v_uid then true end);

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- RPC track_user_presence: the liveness beat every member's client sends every 3 s. Refreshes
-- the client (p_client_id; without it, all of the caller's clients, or a new one when there are
-- none) and the member row; the first beat of an unannounced member announces them; the owner
-- returns; then the room's sweep. p_client_id is jsonb, like p_current_time, so that a value of
-- the wrong JSON type reaches this function (PT400) instead of being cast to text on the way.

drop function public.track_user_presence(text, text, jsonb, jsonb);
create function public.track_user_presence(
  p_room_id       text default null,
  p_user_id       text default null,
  p_current_time  jsonb default null,
  p_is_playing    jsonb default null,
  p_client_id     jsonb default null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_time double precision;
  v_client text;
  v_room public.rooms;
  v_member public.room_members;
begin
  if p_room_id is null
     or jsonb_typeof(p_current_time) is distinct from 'number'
     or jsonb_typeof(p_is_playing) is distinct from 'boolean' then
    perform watchparty_private.fail(400, 'INVALID_REQUEST',
      'p_room_id, p_current_time (number) and p_is_playing (boolean) are required');
  end if;
  v_time := (p_current_time #>> '{}')::double precision;
  perform watchparty_private.check_seconds('p_current_time', v_time);
  if p_client_id is not null and jsonb_typeof(p_client_id) <> 'null' then
    if jsonb_typeof(p_client_id) <> 'string' then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', 'client_id must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -');
    end if;
    v_client := p_client_id #>> '{}';
    perform watchparty_private.check_client_id(v_client);
  end if;
  perform watchparty_private.check_room_id(p_room_id);

  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;

  update public.room_members set
    "current_time" = v_time,
    is_playing = (p_is_playing #>> '{}')::boolean,
    last_seen = now()
  where room_id = p_room_id and user_id = v_uid and left_at is null
  returning * into v_member;
  if not found then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;

  if v_client is not null then
    perform watchparty_private.add_client(p_room_id, v_uid, v_client, true);
  else
    update watchparty_private.room_clients set last_seen = now() where room_id = p_room_id and user_id = v_uid;
    if not found then
      perform watchparty_private.add_client(p_room_id, v_uid, null, true);
    end if;
  end if;

  if not v_member.announced then
    update public.room_members set announced = true where room_id = p_room_id and user_id = v_uid;
    if watchparty_private.take_notice(p_room_id, v_uid) then
      perform watchparty_private.system_comment(v_room, v_member.username || ' joined the room');
    end if;
  end if;

  v_room := watchparty_private.owner_return(v_room, v_uid, v_member.username);
  perform watchparty_private.sweep_room(v_room);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- existing members: one client each, seen when the member was, so that the first sweep does not
-- drop everyone (old rows have no client); members quiet for gone_after drop out at the next beat
-- in their room, the others stay as long as they beat (a beat without p_client_id refreshes it).

insert into watchparty_private.room_clients (room_id, user_id, client_id, joined_at, last_seen)
select room_id, user_id, watchparty_private.new_client_id(), joined_at, last_seen
from public.room_members where left_at is null;

-- ---------------------------------------------------------------------------------------------
-- sync/control with position_at: the server-clock instant (epoch ms, the client's estimate) at
-- which the host read current_time. While the room plays, the stored position is moved on to
-- the write's updated_at, by at most 2 s, so the request's trip to the server (which varies
-- from one request to the next) does not shift the room's timeline. Otherwise as before.

drop function public.control_room(text, text, double precision, double precision, text);
create function public.control_room(
  p_room_id        text default null,
  p_action         text default null,
  p_current_time   double precision default null,
  p_playback_rate  double precision default null,
  p_user_id        text default null,
  p_position_at    double precision default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_room public.rooms;
  v_recent integer;
  v_playing boolean;
  v_rate double precision;
  v_time double precision := p_current_time;
begin
  if p_room_id is null or p_action is null or p_current_time is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id, action and current_time are required');
  end if;
  if p_action not in ('play', 'pause', 'seek', 'sync', 'rate') then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'action must be play, pause, seek, sync or rate');
  end if;
  perform watchparty_private.check_seconds('current_time', p_current_time);
  if p_action = 'rate' and p_playback_rate is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'playback_rate is required for rate');
  end if;
  if p_playback_rate is not null and not (p_playback_rate between 0.25 and 4) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'playback_rate must be between 0.25 and 4');
  end if;
  if p_position_at is not null and not (p_position_at between 0 and 1e14) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST',
      'position_at must be a time in milliseconds since 1970 (the server clock)');
  end if;
  perform watchparty_private.check_room_id(p_room_id);

  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  if not exists (select 1 from public.room_members where room_id = p_room_id and user_id = v_uid and left_at is null) then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;
  if v_room.host_user_id <> v_uid then
    perform watchparty_private.fail(403, 'NOT_HOST', 'only the host can control playback');
  end if;

  perform watchparty_private.take_control(p_room_id, v_uid);

  v_playing := case p_action when 'play' then true when 'pause' then false else v_room.is_playing end;
  v_rate := coalesce(p_playback_rate, v_room.playback_rate);
  if p_position_at is not null and v_playing then
    v_time := v_time + least(greatest(extract(epoch from now()) * 1000 - p_position_at, 0), 2000) / 1000 * v_rate;
  end if;

  update public.rooms set
    is_playing = v_playing,
    "current_time" = case when media_duration > 0 then least(v_time, media_duration) else v_time end,
    playback_rate = v_rate,
    state_version = state_version + 1,
    updated_at = now()
  where room_id = p_room_id
  returning * into v_room;

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- privileges: the API functions as before (callable by anon, which they answer PT401 themselves,
-- and authenticated); the helpers by their owner only, except the two membership tests that row
-- policies call as the requesting role.

revoke all on all functions in schema watchparty_private from public, anon, authenticated;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;
grant execute on function watchparty_private.may_use_room_topic(text) to anon, authenticated, service_role;

revoke all on function
  public.control_room(text, text, double precision, double precision, text, double precision),
  public.create_room(text, text, text, double precision, text, integer, text, text),
  public.join_room(text, text, text, text),
  public.leave_room(text, text, text),
  public.handover_room(text, text, text),
  public.track_user_presence(text, text, jsonb, jsonb, jsonb)
from public;
grant execute on function
  public.control_room(text, text, double precision, double precision, text, double precision),
  public.create_room(text, text, text, double precision, text, integer, text, text),
  public.join_room(text, text, text, text),
  public.leave_room(text, text, text),
  public.handover_room(text, text, text),
  public.track_user_presence(text, text, jsonb, jsonb, jsonb)
to anon, authenticated, service_role;
