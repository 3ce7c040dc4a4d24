-- watchparty: the ready check (docs/api.md and docs/design.md, "The ready check").
--
-- What this migration changes, on top of the lifecycle migration:
--
--   columns    rooms.ready_mode (the host's play waits until every live member is ready),
--              rooms.start_pending (the host asked to play in ready mode while someone was not
--              ready: the room starts by itself once all are), room_members.ready (a person's
--              answer; per person, so all their clients; false again after a leave).
--   settings   public.update_room_settings (rooms/settings): the host's settings, each optional.
--   ready      public.set_member_ready (rooms/ready): a member's answer, at most 10 in 10 s per
--              person and room; the last one ready starts a pending room in the same transaction.
--   control    public.control_room gains p_force: a play in ready mode while a live member is not
--              ready (and without force) leaves the room paused with start_pending, and returns
--              {room, not_ready, not_ready_count}, which the Edge Function answers 409 NOT_READY
--              (a raised error would roll the pending start back). pause and seek clear it.
--   create     public.create_room gains p_ready_mode.
--   re-checks  member_leaves (leave, drop-out) and sweep_room (every beat: a member who went
--              quiet holds the start no longer) start a pending room when nobody live waits.
--
-- A live member: current, announced, and seen within stale_after (watchparty_private.liveness),
-- the host not counted (their play is their answer) — the embedded server's rule too.

alter table public.rooms add column ready_mode boolean not null default false;
alter table public.rooms add column start_pending boolean not null default false;
alter table public.room_members add column ready boolean not null default false;

-- rooms/ready calls of the last seconds, for the per-person rate limit.
create table watchparty_private.ready_events (
  room_id  text not null references public.rooms (room_id) on delete cascade,
  user_id  uuid not null,
  at       timestamptz not null default now()
);
create index ready_events_idx on watchparty_private.ready_events (room_id, user_id, at);
alter table watchparty_private.ready_events enable row level security;
revoke all on watchparty_private.ready_events from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- helpers

-- The live members of p_room, other than its host, who are not ready, in the order they joined.
create function watchparty_private.not_ready(p_room public.rooms)
returns setof public.room_members
language sql
stable
set search_path = ''
as $$
  select m.* from public.room_members m
  left join watchparty_private.member_order o on o.room_id = m.room_id and o.user_id = m.user_id
  where m.room_id = p_room.room_id and m.left_at is null and m.announced and not m.ready
    and m.user_id <> p_room.host_user_id
    and m.last_seen >= now() - (select l.stale_after from watchparty_private.liveness_settings() l)
  order by m.joined_at, o.seq
$$;

-- The room row as the ready check changes it: a new state_version with the position restated at
-- now (clients keep the newest state by version), the given play state and flags.
create function watchparty_private.restate_room(p_room public.rooms, p_playing boolean, p_ready_mode boolean,
  p_start_pending boolean)
returns public.rooms
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_room public.rooms;
  v_time double precision := p_room."current_time";
begin
  if p_room.is_playing then
    v_time := v_time + greatest(extract(epoch from now() - p_room.updated_at), 0) * p_room.playback_rate;
  end if;
  if p_room.media_duration > 0 then
    v_time := least(v_time, p_room.media_duration);
  end if;
  update public.rooms set
    is_playing = p_playing,
    "current_time" = v_time,
    state_version = state_version + 1,
    updated_at = now(),
    ready_mode = p_ready_mode,
    start_pending = p_start_pending
  where room_id = p_room.room_id
  returning * into v_room;
  return v_room;
end
$$;

-- Starts p_room (as locked by the caller) when its start is pending and nobody live waits:
-- playing from where it is, "Everyone is ready: playing". Returns the room row.
create function watchparty_private.maybe_start(p_room public.rooms)
returns public.rooms
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_room public.rooms := p_room;
begin
  if not v_room.start_pending then
    return v_room;
  end if;
  if v_room.ready_mode and exists (select 1 from watchparty_private.not_ready(v_room)) then
    return v_room;
  end if;
  v_room := watchparty_private.restate_room(v_room, true, v_room.ready_mode, false);
  perform watchparty_private.system_comment(v_room, 'Everyone is ready: playing');
  return v_room;
end
$$;

-- As in the lifecycle migration, plus: ready is cleared (a returning person answers again), and a
-- pending start is re-checked (the one who left may have been the last not ready; a new host is
-- not asked).
create or replace function watchparty_private.member_leaves(p_room public.rooms, p_uid uuid, p_dropped boolean)
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
  update public.room_members set left_at = now(), role = 'member', is_playing = false, ready = false
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
  return watchparty_private.maybe_start(v_room);
end
$$;

-- As in the lifecycle migration, plus the pending start re-checked last: a member who went quiet
-- (stale) holds it no longer.
create or replace function watchparty_private.sweep_room(p_room public.rooms)
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
  return watchparty_private.maybe_start(v_room);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/create: as before, plus p_ready_mode.

drop function public.create_room(text, text, text, double precision, text, integer, text, text);
create function public.create_room(
  p_username        text default null,
  p_media_url       text default null,
  p_media_title     text default null,
  p_media_duration  double precision default null,
  p_anime_id        text default null,
  p_episode_number  integer default null,
  p_user_id         text default null,
  p_client_id       text default null,
  p_ready_mode      boolean default null
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
      insert into public.rooms (room_id, host_user_id, owner_user_id, media_url, media_title, media_duration, anime_id,
                                episode_number, ready_mode)
      values (watchparty_private.new_room_id(), v_uid, v_uid, p_media_url, v_title, p_media_duration, v_anime,
              p_episode_number, coalesce(p_ready_mode, false))
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
-- rooms/settings: the host's settings, each optional (absent: as it is). Switching ready mode on
-- asks everyone again (every member's ready is cleared); switching it off drops a pending start.
-- Nothing changed: nothing written. Counts against the control rate.

create function public.update_room_settings(
  p_room_id     text default null,
  p_ready_mode  boolean default null,
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
  v_ready_mode boolean;
  v_pending boolean;
begin
  if p_room_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id is required');
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
    perform watchparty_private.fail(403, 'NOT_HOST', 'only the host can change the room settings');
  end if;

  perform watchparty_private.take_control(p_room_id, v_uid);

  v_ready_mode := coalesce(p_ready_mode, v_room.ready_mode);
  v_pending := v_room.start_pending and v_ready_mode;
  if v_ready_mode and not v_room.ready_mode then
    update public.room_members set ready = false where room_id = p_room_id and left_at is null and ready;
  end if;
  if v_ready_mode is distinct from v_room.ready_mode or v_pending is distinct from v_room.start_pending then
    v_room := watchparty_private.restate_room(v_room, v_room.is_playing, v_ready_mode, v_pending);
  end if;

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/ready: the caller's answer (their row: all their clients), at most 10 calls in 10 s per
-- person and room. The last one ready starts a pending room in the same transaction.

create function public.set_member_ready(
  p_room_id  text default null,
  p_ready    boolean default null,
  p_user_id  text default null
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
begin
  if p_room_id is null or p_ready is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and ready are required');
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

  delete from watchparty_private.ready_events
  where room_id = p_room_id and user_id = v_uid and at <= now() - interval '10 seconds';
  if (select count(*) from watchparty_private.ready_events where room_id = p_room_id and user_id = v_uid) >= 10 then
    perform watchparty_private.fail(429, 'RATE_LIMITED', 'more than 10 ready changes in 10 s');
  end if;
  insert into watchparty_private.ready_events (room_id, user_id) values (p_room_id, v_uid);

  if v_member.ready is distinct from p_ready then
    update public.room_members set ready = p_ready where room_id = p_room_id and user_id = v_uid
    returning * into v_member;
    v_room := watchparty_private.maybe_start(v_room);
  end if;

  return jsonb_build_object(
    'room', watchparty_private.room_json(v_room),
    'member', watchparty_private.member_json(v_member));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- sync/control: as before, plus the ready check. A play in ready mode, the room paused, while a
-- live member is not ready and p_force is not true: the room stays paused at current_time with
-- start_pending set (a new state_version), and the reply adds not_ready (the first 20, as
-- {user_id, username}) and not_ready_count; the Edge Function answers it 409 NOT_READY. A forced
-- play, a pause and a seek clear start_pending.

drop function public.control_room(text, text, double precision, double precision, text, double precision);
create function public.control_room(
  p_room_id        text default null,
  p_action         text default null,
  p_current_time   double precision default null,
  p_playback_rate  double precision default null,
  p_user_id        text default null,
  p_position_at    double precision default null,
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
  v_playing boolean;
  v_pending boolean;
  v_rate double precision;
  v_time double precision := p_current_time;
  v_waiting jsonb;
  v_count integer;
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

  if p_action = 'play' and v_room.ready_mode and not v_room.is_playing and p_force is not true then
    select count(*), coalesce(jsonb_agg(jsonb_build_object('user_id', w.user_id, 'username', w.username)
                                        order by w.n) filter (where w.n <= 20), '[]')
    into v_count, v_waiting
    from (select nr.user_id, nr.username, row_number() over () as n
          from watchparty_private.not_ready(v_room) nr) w;
    if v_count > 0 then
      update public.rooms set
        "current_time" = case when media_duration > 0 then least(v_time, media_duration) else v_time end,
        state_version = state_version + 1,
        updated_at = now(),
        start_pending = true
      where room_id = p_room_id
      returning * into v_room;
      return jsonb_build_object('room', watchparty_private.room_json(v_room),
        'not_ready', v_waiting, 'not_ready_count', v_count);
    end if;
  end if;

  v_playing := case p_action when 'play' then true when 'pause' then false else v_room.is_playing end;
  v_pending := case when p_action in ('play', 'pause', 'seek') then false else v_room.start_pending end;
  v_rate := coalesce(p_playback_rate, v_room.playback_rate);
  if p_position_at is not null and v_playing then
    v_time := v_time + least(greatest(extract(epoch from now()) * 1000 - p_position_at, 0), 2000) / 1000 * v_rate;
  end if;

  update public.rooms set
    is_playing = v_playing,
    "current_time" = case when media_duration > 0 then least(v_time, media_duration) else v_time end,
    playback_rate = v_rate,
    state_version = state_version + 1,
    updated_at = now(),
    start_pending = v_pending
  where room_id = p_room_id
  returning * into v_room;

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- privileges: the API functions callable by anon (which they answer PT401 themselves) and
-- authenticated; the helpers by their owner only.

revoke all on all functions in schema watchparty_private from public, anon, authenticated;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;
grant execute on function watchparty_private.may_use_room_topic(text) to anon, authenticated, service_role;

revoke all on function
  public.control_room(text, text, double precision, double precision, text, double precision, boolean),
  public.create_room(text, text, text, double precision, text, integer, text, text, boolean),
  public.update_room_settings(text, boolean, text),
  public.set_member_ready(text, boolean, text)
from public;
grant execute on function
  public.control_room(text, text, double precision, double precision, text, double precision, boolean),
  public.create_room(text, text, text, double precision, text, integer, text, text, boolean),
  public.update_room_settings(text, boolean, text),
  public.set_member_ready(text, boolean, text)
to anon, authenticated, service_role;
