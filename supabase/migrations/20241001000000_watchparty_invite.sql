-- watchparty: invite links and moderation (docs/api.md, "Invites and moderation"; docs/design.md
-- §14).
--
--   invite     a room has an invite secret (24 characters of base64url, 144 random bits); only its
--              SHA-256 is stored (watchparty_private.room_invites), so a copy of the database hands
--              out no joinable link. rooms/create returns the first one (the Edge Function calls
--              rotate_invite right after create_room), rooms/invite/rotate (public.rotate_invite,
--              host only) replaces it. rooms/join (public.join_room_invited) admits someone with
--              no member row only with the current secret, and answers a wrong or missing one
--              exactly like an unknown room. Members, and people who left (reconnects, the rejoin
--              after a drop-out, the owner), need no secret.
--   gate       a trigger on room_members enforces the same rule for every path into a room (a
--              direct call of public.join_room too): a new row is admitted only for the room's
--              owner (create_room) or with the current secret, which join_room_invited hands to
--              it in a transaction-local setting; a left row comes back unless the person is
--              banned, or was removed and brings no secret.
--   co-host    room_members.cohost: the host lets a member control playback (public.set_cohost,
--              rooms/cohost); control_room accepts a current co-host like the host.
--   kick, ban  public.kick_member / ban_member (rooms/kick, rooms/ban), host only: the member's
--              clients go at once (a soft leave, no "left" notice: "alice removed bob" / "alice
--              banned bob" instead); removed people come back only with the current secret
--              (watchparty_private.room_removals), banned ones never (room_bans).
--
-- Every moderation request counts against the control rate (20 per 10 s per user and room).

-- ---------------------------------------------------------------------------------------------
-- tables

alter table public.room_members add column cohost boolean not null default false;

create table watchparty_private.room_invites (
  room_id     text primary key references public.rooms (room_id) on delete cascade,
  secret_hash bytea not null,
  rotated_at  timestamptz(3) not null default now()
);

create table watchparty_private.room_removals (
  room_id    text not null references public.rooms (room_id) on delete cascade,
  user_id    uuid not null,
  removed_by text not null,
  primary key (room_id, user_id)
);

create table watchparty_private.room_bans (
  room_id    text not null references public.rooms (room_id) on delete cascade,
  user_id    uuid not null,
  banned_by  text not null,
  created_at timestamptz(3) not null default now(),
  primary key (room_id, user_id)
);

alter table watchparty_private.room_invites enable row level security;
alter table watchparty_private.room_removals enable row level security;
alter table watchparty_private.room_bans enable row level security;
revoke all on watchparty_private.room_invites, watchparty_private.room_removals, watchparty_private.room_bans
from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- the secret

-- 18 random bytes from gen_random_uuid (bytes 6 and 8 carry version and variant bits: skipped),
-- as 24 characters of base64url.
create function watchparty_private.new_invite_secret()
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_bytes bytea := ''::bytea;
  v_uuid bytea;
begin
  while length(v_bytes) < 18 loop
    v_uuid := uuid_send(gen_random_uuid());
    for i in 0..15 loop
      continue when i in (6, 8);
      v_bytes := v_bytes || substring(v_uuid from i + 1 for 1);
      exit when length(v_bytes) = 18;
    end loop;
  end loop;
  return translate(encode(v_bytes, 'base64'), '+/', '-_');
end
$$;

create function watchparty_private.invite_hash(p_secret text)
returns bytea
language sql
immutable
set search_path = ''
as $$
  select sha256(convert_to(p_secret, 'UTF8'))
$$;

-- Whether p_secret is the room's current secret (a room without one admits nobody by secret).
create function watchparty_private.invite_matches(p_room_id text, p_secret text)
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(p_secret <> '' and exists (
    select 1 from watchparty_private.room_invites
    where room_id = p_room_id and secret_hash = watchparty_private.invite_hash(p_secret)), false)
$$;

-- Sets a new secret for the room and returns it.
create function watchparty_private.store_new_invite(p_room_id text)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_secret text := watchparty_private.new_invite_secret();
begin
  insert into watchparty_private.room_invites (room_id, secret_hash, rotated_at)
  values (p_room_id, watchparty_private.invite_hash(v_secret), now())
  on conflict (room_id) do update set secret_hash = excluded.secret_hash, rotated_at = excluded.rotated_at;
  return v_secret;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- the gate: who may become (or be again) a current member of a room

-- join_room_invited hands the join's secret to the gate in a transaction-local setting; the gate
-- checks it against the room's hash itself, so even a way to set the setting would need the secret.
create function watchparty_private.admitted(p_room_id text)
returns boolean
language sql
stable
set search_path = ''
as $$
  select watchparty_private.invite_matches(p_room_id, coalesce(current_setting('watchparty.invite_secret', true), ''))
$$;

create function watchparty_private.member_gate()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_by text;
begin
  if tg_op = 'UPDATE' and not (old.left_at is not null and new.left_at is null) then
    return new; -- not a return to the room (a leave, a drop-out, a removal)
  end if;
  if exists (select 1 from watchparty_private.room_bans where room_id = new.room_id and user_id = new.user_id) then
    perform watchparty_private.fail(403, 'BANNED', 'you are banned from this room');
  end if;
  if tg_op = 'INSERT' then
    if not watchparty_private.admitted(new.room_id)
       and not exists (select 1 from public.rooms where room_id = new.room_id and owner_user_id = new.user_id) then
      perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
    end if;
  else
    select removed_by into v_by from watchparty_private.room_removals
    where room_id = new.room_id and user_id = new.user_id;
    if found then
      if not watchparty_private.admitted(new.room_id) then
        perform watchparty_private.fail(403, 'REMOVED', 'you were removed from the room by ' || v_by);
      end if;
      delete from watchparty_private.room_removals where room_id = new.room_id and user_id = new.user_id;
    end if;
  end if;
  return new;
end
$$;

create trigger room_members_gate
before insert or update of left_at on public.room_members
for each row execute function watchparty_private.member_gate();

-- ---------------------------------------------------------------------------------------------
-- rooms/join: the invite rule, then join_room. A person with no member row needs the current
-- secret (otherwise: 404 ROOM_NOT_FOUND, as for an unknown room); a removed one needs it too
-- (otherwise 403 REMOVED); a banned one is refused (403 BANNED). The fields are checked first,
-- in join_room's order, so a bad name reads the same with or without a room.

create function public.join_room_invited(
  p_room_id        text default null,
  p_username       text default null,
  p_user_id        text default null,
  p_client_id      text default null,
  p_invite_secret  text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_joined jsonb;
begin
  perform watchparty_private.caller(p_user_id);
  if p_room_id is null or p_username is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and username are required');
  end if;
  perform watchparty_private.clean_username(p_username);
  perform watchparty_private.check_client_id(p_client_id);
  perform watchparty_private.check_room_id(p_room_id);

  perform 1 from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  perform set_config('watchparty.invite_secret', coalesce(p_invite_secret, ''), true);
  v_joined := public.join_room(p_room_id => p_room_id, p_username => p_username, p_user_id => p_user_id,
                          p_client_id => p_client_id);
  perform set_config('watchparty.invite_secret', '', true);
  return v_joined;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- host-only requests: the room locked, the caller its host and a current member; a control.

create function watchparty_private.host_request(p_room_id text, p_uid uuid, p_control boolean,
                                                out room public.rooms, out host public.room_members)
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform watchparty_private.check_room_id(p_room_id);
  select * into room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  select * into host from public.room_members where room_id = p_room_id and user_id = p_uid and left_at is null;
  if not found then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;
  if room.host_user_id <> p_uid then
    perform watchparty_private.fail(403, 'NOT_HOST', 'only the host can do this');
  end if;
  if p_control then
    perform watchparty_private.take_control(p_room_id, p_uid);
  end if;
end
$$;

-- rooms/invite/rotate: a new secret (returned once: only its hash is kept); older links stop
-- admitting newcomers. The room's first secret (rooms/create calls this right after create_room)
-- is not counted as a control.
create function public.rotate_invite(
  p_room_id  text default null,
  p_user_id  text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
begin
  if p_room_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id is required');
  end if;
  perform watchparty_private.host_request(p_room_id, v_uid,
    exists (select 1 from watchparty_private.room_invites where room_id = p_room_id));
  return jsonb_build_object('room_id', p_room_id, 'invite_secret', watchparty_private.store_new_invite(p_room_id));
end
$$;

-- rooms/cohost: grant (or with p_revoke take back) the co-host mark of another current member.
create function public.set_cohost(
  p_room_id         text default null,
  p_member_user_id  text default null,
  p_revoke          boolean default null,
  p_user_id         text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_req record;
  v_target public.room_members;
  v_on boolean := not coalesce(p_revoke, false);
begin
  if p_room_id is null or p_member_user_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and member_user_id are required');
  end if;
  select * into v_req from watchparty_private.host_request(p_room_id, v_uid, true);
  select * into v_target from public.room_members
  where room_id = p_room_id and user_id::text = p_member_user_id and user_id <> v_uid and left_at is null;
  if not found then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'member_user_id must be another member of the room, not its owner');
  end if;
  if v_target.cohost <> v_on then
    update public.room_members set cohost = v_on where room_id = p_room_id and user_id = v_target.user_id
    returning * into v_target;
    perform watchparty_private.system_comment(v_req.room, (v_req.host).username
      || case when v_on then ' made ' || v_target.username || ' a co-host'
              else ' took ' || v_target.username || '''s co-host role' end);
  end if;
  return jsonb_build_object('member', watchparty_private.member_json(v_target));
end
$$;

-- kick and ban: the member's clients go at once and their row leaves (an UPDATE: left_at, role
-- member, not playing, no co-host), with "alice removed bob" / "alice banned bob" instead of a
-- leave notice. Nobody can remove themselves or the room's owner; a ban works on someone who
-- already left too. The target is never the host (the caller is).
create function watchparty_private.remove_member(p_room_id text, p_member_user_id text, p_ban boolean, p_user_id text)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_req record;
  v_target public.room_members;
begin
  if p_room_id is null or p_member_user_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and member_user_id are required');
  end if;
  select * into v_req from watchparty_private.host_request(p_room_id, v_uid, true);
  select * into v_target from public.room_members
  where room_id = p_room_id and user_id::text = p_member_user_id and user_id <> v_uid
    and user_id <> (v_req.room).owner_user_id and (p_ban or left_at is null);
  if not found then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'member_user_id must be another member of the room, not its owner');
  end if;

  insert into watchparty_private.room_removals (room_id, user_id, removed_by)
  values (p_room_id, v_target.user_id, (v_req.host).username)
  on conflict (room_id, user_id) do update set removed_by = excluded.removed_by;
  if p_ban then
    insert into watchparty_private.room_bans (room_id, user_id, banned_by)
    values (p_room_id, v_target.user_id, (v_req.host).username)
    on conflict (room_id, user_id) do nothing;
  end if;
  delete from watchparty_private.room_clients where room_id = p_room_id and user_id = v_target.user_id;
  update public.room_members set
    left_at = coalesce(left_at, now()), role = 'member', is_playing = false, cohost = false
  where room_id = p_room_id and user_id = v_target.user_id and (left_at is null or cohost);

  perform watchparty_private.system_comment(v_req.room, (v_req.host).username
    || case when p_ban then ' banned ' else ' removed ' end || v_target.username);
  return jsonb_build_object('room', watchparty_private.room_json(v_req.room));
end
$$;

create function public.kick_member(
  p_room_id         text default null,
  p_member_user_id  text default null,
  p_user_id         text default null
)
returns jsonb
language sql
security definer
set search_path = ''
as $$
  select watchparty_private.remove_member(p_room_id, p_member_user_id, false, p_user_id)
$$;

create function public.ban_member(
  p_room_id         text default null,
  p_member_user_id  text default null,
  p_user_id         text default null
)
returns jsonb
language sql
security definer
set search_path = ''
as $$
  select watchparty_private.remove_member(p_room_id, p_member_user_id, true, p_user_id)
$$;

-- ---------------------------------------------------------------------------------------------
-- sync/control: as in the wait migration (the ready check's held play, the wait action), but a
-- current co-host may control like the host.

create or replace function public.control_room(
  p_room_id        text default null,
  p_action         text default null,
  p_current_time   double precision default null,
  p_playback_rate  double precision default null,
  p_user_id        text default null,
  p_position_at    double precision default null,
  p_waiting_for    jsonb default null,
  p_force          boolean default null
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
  v_playing boolean;
  v_rate double precision;
  v_time double precision := p_current_time;
  v_waiting jsonb;
  v_pending boolean;
  v_not_ready jsonb;
  v_count integer;
  v_rule constant text := 'waiting_for must be 1 to 16 different user ids of current members';
begin
  if p_room_id is null or p_action is null or p_current_time is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id, action and current_time are required');
  end if;
  if p_action not in ('play', 'pause', 'seek', 'sync', 'rate', 'wait') then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'action must be one of play, pause, seek, sync, rate, wait');
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
  if p_action = 'wait' then
    if p_waiting_for is null or jsonb_typeof(p_waiting_for) is distinct from 'array' then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', 'waiting_for is required for wait');
    end if;
    if jsonb_array_length(p_waiting_for) not between 1 and 16
       or exists (select 1 from jsonb_array_elements(p_waiting_for) e
                  where jsonb_typeof(e) <> 'string' or e #>> '{}' = '')
       or (select count(distinct e) from jsonb_array_elements(p_waiting_for) e) <> jsonb_array_length(p_waiting_for) then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', v_rule);
    end if;
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
  if v_room.host_user_id <> v_uid and not v_member.cohost then
    perform watchparty_private.fail(403, 'NOT_HOST', 'only the host can control playback');
  end if;
  if p_action = 'wait' and exists (
      select 1 from jsonb_array_elements_text(p_waiting_for) e(id)
      where not exists (select 1 from public.room_members m
                        where m.room_id = p_room_id and m.user_id::text = e.id and m.left_at is null)) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'waiting_for must list current members of the room');
  end if;

  perform watchparty_private.take_control(p_room_id, v_uid);

  -- The ready check (the ready migration): a held play stores the pending start and returns
  -- not_ready, which the Edge Function answers 409 NOT_READY.
  if p_action = 'play' and v_room.ready_mode and not v_room.is_playing and p_force is not true then
    select count(*), coalesce(jsonb_agg(jsonb_build_object('user_id', w.user_id, 'username', w.username)
                                        order by w.n) filter (where w.n <= 20), '[]')
    into v_count, v_not_ready
    from (select nr.user_id, nr.username, row_number() over () as n
          from watchparty_private.not_ready(v_room) nr) w;
    if v_count > 0 then
      update public.rooms set
        "current_time" = case when media_duration > 0 then least(v_time, media_duration) else v_time end,
        waiting_for = '[]'::jsonb,
        state_version = state_version + 1,
        updated_at = now(),
        start_pending = true
      where room_id = p_room_id
      returning * into v_room;
      return jsonb_build_object('room', watchparty_private.room_json(v_room),
        'not_ready', v_not_ready, 'not_ready_count', v_count);
    end if;
  end if;

  v_playing := case p_action when 'play' then true when 'pause' then false when 'wait' then false else v_room.is_playing end;
  v_pending := case when p_action in ('play', 'pause', 'seek') then false else v_room.start_pending end;
  v_rate := coalesce(p_playback_rate, v_room.playback_rate);
  v_waiting := case p_action when 'wait' then p_waiting_for when 'play' then '[]'::jsonb when 'pause' then '[]'::jsonb
                             when 'seek' then '[]'::jsonb else v_room.waiting_for end;
  if p_position_at is not null and v_playing then
    v_time := v_time + least(greatest(extract(epoch from now()) * 1000 - p_position_at, 0), 2000) / 1000 * v_rate;
  end if;

  update public.rooms set
    is_playing = v_playing,
    "current_time" = case when media_duration > 0 then least(v_time, media_duration) else v_time end,
    playback_rate = v_rate,
    waiting_for = v_waiting,
    state_version = state_version + 1,
    updated_at = now(),
    start_pending = v_pending
  where room_id = p_room_id
  returning * into v_room;

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- privileges: the API functions callable by anon (which they answer PT401) and authenticated;
-- the helpers by their owner only.

revoke all on all functions in schema watchparty_private from public, anon, authenticated;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;
grant execute on function watchparty_private.may_use_room_topic(text) to anon, authenticated, service_role;

revoke all on function
  public.join_room_invited(text, text, text, text, text),
  public.rotate_invite(text, text),
  public.set_cohost(text, text, boolean, text),
  public.kick_member(text, text, text),
  public.ban_member(text, text, text)
from public;
grant execute on function
  public.join_room_invited(text, text, text, text, text),
  public.rotate_invite(text, text),
  public.set_cohost(text, text, boolean, text),
  public.kick_member(text, text, text),
  public.ban_member(text, text, text)
to anon, authenticated, service_role;
