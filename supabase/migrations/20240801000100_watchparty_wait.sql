-- Waiting for a buffering member (docs/api.md, "Waiting for a buffering member"; docs/design.md §7.12).
--
-- room_members.buffering: the member's latest beat's p_buffering (false for a client that does
-- not send it, such as the browser client). rooms.waiting_for: the user ids the room waits for
-- (a JSON array; empty: no wait), set by the host's sync/control "wait" and cleared by play, pause
-- and seek. rooms.wait_limit: the longest wait in seconds (0: never wait), which the host's
-- session applies.

alter table public.room_members add column buffering boolean not null default false;
alter table public.rooms add column waiting_for jsonb not null default '[]'::jsonb;
alter table public.rooms add column wait_limit integer not null default 8;
alter table public.rooms add constraint rooms_wait_limit_range check (wait_limit between 0 and 60);
alter table public.rooms add constraint rooms_waiting_for_array
  check (jsonb_typeof(waiting_for) = 'array' and jsonb_array_length(waiting_for) <= 16);

-- ---------------------------------------------------------------------------------------------
-- RPC track_user_presence: as in the lifecycle migration, plus p_buffering (optional boolean,
-- absent or null = false), stored on the member row.

drop function public.track_user_presence(text, text, jsonb, jsonb, jsonb);
create function public.track_user_presence(
  p_room_id       text default null,
  p_user_id       text default null,
  p_current_time  jsonb default null,
  p_is_playing    jsonb default null,
  p_client_id     jsonb default null,
  p_buffering     jsonb default null
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
  v_buffering boolean := false;
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
  if p_buffering is not null and jsonb_typeof(p_buffering) <> 'null' then
    if jsonb_typeof(p_buffering) <> 'boolean' then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', 'p_buffering must be a boolean');
    end if;
    v_buffering := (p_buffering #>> '{}')::boolean;
  end if;
  perform watchparty_private.check_room_id(p_room_id);

  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;

  update public.room_members set
    "current_time" = v_time,
    is_playing = (p_is_playing #>> '{}')::boolean,
    buffering = v_buffering,
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
-- sync/control: as in the ready migration (p_force and the held play of the ready check), plus the
-- action "wait" with p_waiting_for (a JSON array of 1 to 16 distinct user ids of current members):
-- the room pauses at current_time with waiting_for set. play (held or not), pause and seek clear
-- waiting_for; sync and rate keep it.

drop function public.control_room(text, text, double precision, double precision, text, double precision, boolean);
create function public.control_room(
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
  if not exists (select 1 from public.room_members where room_id = p_room_id and user_id = v_uid and left_at is null) then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;
  if v_room.host_user_id <> v_uid then
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
-- rooms/settings: as in the ready migration, plus p_wait_limit (seconds, 0 to 60; 0: never wait).
-- A change restates the room (a new state_version), so that every screen takes it.

drop function public.update_room_settings(text, boolean, text);
create function public.update_room_settings(
  p_room_id     text default null,
  p_ready_mode  boolean default null,
  p_user_id     text default null,
  p_wait_limit  integer default null
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
  v_wait_limit integer;
begin
  if p_room_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id is required');
  end if;
  if p_wait_limit is not null and not (p_wait_limit between 0 and 60) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'wait_limit must be a whole number of seconds from 0 to 60');
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
  v_wait_limit := coalesce(p_wait_limit, v_room.wait_limit);
  if v_ready_mode and not v_room.ready_mode then
    update public.room_members set ready = false where room_id = p_room_id and left_at is null and ready;
  end if;
  if v_wait_limit is distinct from v_room.wait_limit then
    update public.rooms set wait_limit = v_wait_limit where room_id = p_room_id returning * into v_room;
    v_room := watchparty_private.restate_room(v_room, v_room.is_playing, v_ready_mode, v_pending);
  elsif v_ready_mode is distinct from v_room.ready_mode or v_pending is distinct from v_room.start_pending then
    v_room := watchparty_private.restate_room(v_room, v_room.is_playing, v_ready_mode, v_pending);
  end if;

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- privileges, as for the functions these replace.

revoke all on all functions in schema watchparty_private from public, anon, authenticated;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;
grant execute on function watchparty_private.may_use_room_topic(text) to anon, authenticated, service_role;

revoke all on function
  public.control_room(text, text, double precision, double precision, text, double precision, jsonb, boolean),
  public.track_user_presence(text, text, jsonb, jsonb, jsonb, jsonb),
  public.update_room_settings(text, boolean, text, integer)
from public;
grant execute on function
  public.control_room(text, text, double precision, double precision, text, double precision, jsonb, boolean),
  public.track_user_presence(text, text, jsonb, jsonb, jsonb, jsonb),
  public.update_room_settings(text, boolean, text, integer)
to anon, authenticated, service_role;
