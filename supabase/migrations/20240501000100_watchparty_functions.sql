-- watchparty: the room logic, as security definer functions.
--
-- Every function takes the caller from auth.uid() (the verified JWT's `sub`), never from its
-- arguments: an optional p_user_id is only compared with it (USER_MISMATCH when different).
--
-- Errors are raised with SQLSTATE 'PTxyz', which PostgREST turns into HTTP status xyz with the body
-- {"code":"PTxyz","message":…,"details":<contract code>,"hint":null}. The Edge Functions map
-- `details` to the contract's error code (docs/api.md). Checks run in this order: caller (401),
-- p_user_id (403), arguments (400), room (404), membership (403), host (403), rate (429).
--
-- Arguments default to null so that a missing one reaches the function (PT400) instead of
-- PostgREST's "function not found".

-- ---------------------------------------------------------------------------------------------
-- helpers (private: not reachable through the API)

create function watchparty_private.fail(p_status integer, p_code text, p_message text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using errcode = 'PT' || p_status::text, message = p_message, detail = p_code;
end
$$;

-- The caller's user id; PT401 when the request carries no user token (anon key or none).
create function watchparty_private.caller(p_user_id text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    perform watchparty_private.fail(401, 'UNAUTHORIZED', 'a user token is required');
  end if;
  if p_user_id is not null and p_user_id <> v_uid::text then
    perform watchparty_private.fail(403, 'USER_MISMATCH', 'user_id is not the caller');
  end if;
  return v_uid;
end
$$;

-- Timestamps as PostgREST's timestamptz form with exactly three fraction digits.
create function watchparty_private.ts(p_at timestamptz)
returns text
language sql
immutable
set search_path = ''
as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"')
$$;

-- Leading and trailing white space, as Go's unicode.IsSpace sees it.
create function watchparty_private.trim_space(p_text text)
returns text
language sql
immutable
set search_path = ''
as $$
  select regexp_replace(p_text,
    '^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$',
    '', 'g')
$$;

-- Text from users as every client will see it, the cleaning the embedded server had when this
-- migration was written (the trust migration, 20240601000000, replaces it with the rule of
-- package textsafe, which the server and the client share): terminal escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, other ESC
-- sequences) removed; C0/C1 controls removed, except that newline and tab are kept in multi-line
-- text (comments) and become spaces in single-line text (names, titles); bidi embeddings,
-- overrides, isolates and marks removed (they reorder what others see); private-use characters
-- removed; then trimmed.
create function watchparty_private.clean_text(p_text text, p_multiline boolean)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text := p_text;
begin
  if v is null then
    return null;
  end if;
  v := regexp_replace(v, '\x1b\][^\x07\x1b]*(\x07|\x1b\\)?', '', 'g');          -- OSC … BEL|ST
  v := regexp_replace(v, '\x1b[PX^_][^\x1b]*(\x1b\\)?', '', 'g');                -- DCS/SOS/PM/APC … ST
  v := regexp_replace(v, '\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]', '', 'g');  -- CSI
  v := regexp_replace(v, '\x1b[\x20-\x2f]*[\x30-\x7e]', '', 'g');                -- other ESC sequences
  if p_multiline then
    v := regexp_replace(v, '[\u0001-\u0008\u000b-\u001f\u007f-\u009f]', '', 'g');
  else
    v := regexp_replace(v, '[\n\t]', ' ', 'g');
    v := regexp_replace(v, '[\u0001-\u001f\u007f-\u009f]', '', 'g');
  end if;
  v := regexp_replace(v, '[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]', '', 'g');
  return watchparty_private.trim_space(v);
end
$$;

-- A cleaned username; INVALID_USERNAME unless 1–32 characters remain.
create function watchparty_private.clean_username(p_username text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_name text := coalesce(watchparty_private.clean_text(p_username, false), '');
begin
  if char_length(v_name) not between 1 and 32 then
    perform watchparty_private.fail(400, 'INVALID_USERNAME', 'username must be 1 to 32 characters');
  end if;
  return v_name;
end
$$;

create function watchparty_private.check_position(p_name text, p_value double precision)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- NaN sorts above Infinity in PostgreSQL, so this also rejects NaN.
  if p_value is not null and not (p_value >= 0 and p_value < 'Infinity'::double precision) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', p_name || ' must be a finite number >= 0');
  end if;
end
$$;

-- Rows as JSON: every column under its own name (to_jsonb), timestamps in the three-digit form.
create function watchparty_private.room_json(p_room public.rooms)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(p_room) || jsonb_build_object(
    'updated_at', watchparty_private.ts(p_room.updated_at),
    'created_at', watchparty_private.ts(p_room.created_at))
$$;

create function watchparty_private.member_json(p_member public.room_members)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(p_member) || jsonb_build_object(
    'last_seen', watchparty_private.ts(p_member.last_seen),
    'joined_at', watchparty_private.ts(p_member.joined_at))
$$;

create function watchparty_private.comment_json(p_comment public.comments)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(p_comment) || jsonb_build_object('created_at', watchparty_private.ts(p_comment.created_at))
$$;

-- Members in the order they joined (the hand-over order).
create function watchparty_private.members_json(p_room_id text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(watchparty_private.member_json(m) order by m.joined_at, m.user_id), '[]')
  from public.room_members m
  where m.room_id = p_room_id
$$;

-- 10 characters of [a-z0-9] from gen_random_uuid's random bits (bytes ≥ 252 are skipped so every
-- character is equally likely): about 51.7 bits, unguessable.
create function watchparty_private.new_room_id()
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_alphabet constant text := 'abcdefghijklmnopqrstuvwxyz0123456789';
  v_id text := '';
  v_bytes bytea;
  v_byte integer;
begin
  while char_length(v_id) < 10 loop
    v_bytes := uuid_send(gen_random_uuid());
    for i in 0..15 loop
      -- bytes 6 and 8 carry the uuid's version and variant bits: not random.
      continue when i in (6, 8);
      v_byte := get_byte(v_bytes, i);
      continue when v_byte >= 252;
      v_id := v_id || substr(v_alphabet, v_byte % 36 + 1, 1);
      exit when char_length(v_id) = 10;
    end loop;
  end loop;
  return v_id;
end
$$;

-- A notice in the room's comments: user_id null, username "system".
create function watchparty_private.system_comment(p_room public.rooms, p_message text)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into public.comments (room_id, anime_id, episode_number, user_id, username, message, is_system_message)
  values (p_room.room_id, p_room.anime_id, p_room.episode_number, null, 'system', p_message, true)
$$;

-- The room's position at p_at: current_time plus the time played since updated_at, clamped to
-- the media's duration when known.
create function watchparty_private.position_at(p_room public.rooms, p_at timestamptz)
returns double precision
language sql
stable
set search_path = ''
as $$
  select case when p_room.media_duration > 0 then least(pos, p_room.media_duration) else pos end
  from (select p_room."current_time" + case when p_room.is_playing
          then greatest(extract(epoch from p_at - p_room.updated_at)::double precision, 0) * p_room.playback_rate
          else 0 end as pos) p
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/create: the caller creates a room and becomes its host.

create function public.create_room(
  p_username        text default null,
  p_media_url       text default null,
  p_media_title     text default null,
  p_media_duration  double precision default null,
  p_anime_id        text default null,
  p_episode_number  integer default null,
  p_user_id         text default null
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
begin
  if p_username is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'username is required');
  end if;
  v_name := watchparty_private.clean_username(p_username);
  perform watchparty_private.check_position('media_duration', p_media_duration);

  loop
    begin
      insert into public.rooms (room_id, host_user_id, media_url, media_title, media_duration, anime_id, episode_number)
      values (watchparty_private.new_room_id(), v_uid, p_media_url, watchparty_private.clean_text(p_media_title, false),
              p_media_duration, p_anime_id, p_episode_number)
      returning * into v_room;
      exit;
    exception when unique_violation then
      -- a 1 in 2^51 collision: draw again
    end;
  end loop;

  insert into public.room_members (room_id, user_id, username, role)
  values (v_room.room_id, v_uid, v_name, 'host')
  returning * into v_member;

  return jsonb_build_object(
    'room', watchparty_private.room_json(v_room),
    'member', watchparty_private.member_json(v_member));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/join: idempotent. The first join adds "<name> joined the room"; joining again (reconnect,
-- a second terminal, the creator opening its own room) keeps the role, updates the name and
-- last_seen, and adds nothing.

create function public.join_room(
  p_room_id   text default null,
  p_username  text default null,
  p_user_id   text default null
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
begin
  if p_room_id is null or p_username is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and username are required');
  end if;
  v_name := watchparty_private.clean_username(p_username);

  -- The row lock serialises joins to one room, so two racing first joins add one notice.
  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;

  update public.room_members set username = v_name, last_seen = now()
  where room_id = p_room_id and user_id = v_uid
  returning * into v_member;
  if not found then
    insert into public.room_members (room_id, user_id, username, role)
    values (v_room.room_id, v_uid, v_name,
            case when v_room.host_user_id = v_uid then 'host' else 'member' end)
    returning * into v_member;
    perform watchparty_private.system_comment(v_room, v_name || ' joined the room');
  end if;

  return jsonb_build_object(
    'room', watchparty_private.room_json(v_room),
    'member', watchparty_private.member_json(v_member),
    'members', watchparty_private.members_json(v_room.room_id));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/leave: removes the caller, adds "<name> left the room"; a leaving host hands the room to
-- the longest-present member ("<name> is now the host", a new state_version). The last member
-- leaving keeps host_user_id (the host gets the room back by joining again).

create function public.leave_room(
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
  v_room public.rooms;
  v_member public.room_members;
  v_heir public.room_members;
begin
  if p_room_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id is required');
  end if;

  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;

  delete from public.room_members where room_id = p_room_id and user_id = v_uid
  returning * into v_member;
  if not found then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;

  perform watchparty_private.system_comment(v_room, v_member.username || ' left the room');

  if v_room.host_user_id = v_uid then
    select * into v_heir from public.room_members
    where room_id = p_room_id
    order by joined_at, user_id
    limit 1;
    if found then
      update public.room_members set role = 'host'
      where room_id = p_room_id and user_id = v_heir.user_id;
      -- A new host publishes from now on: restate the position at now (so followers keep it)
      -- under a new state_version.
      update public.rooms set
        host_user_id = v_heir.user_id,
        "current_time" = watchparty_private.position_at(v_room, now()),
        state_version = state_version + 1,
        updated_at = now()
      where room_id = p_room_id
      returning * into v_room;
      perform watchparty_private.system_comment(v_room, v_heir.username || ' is now the host');
    end if;
  end if;

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- sync/control: host only. play/pause set is_playing; seek and sync move the position and keep
-- is_playing; rate needs p_playback_rate. Any action may carry a playback rate. Each control
-- publishes a new state: current_time (clamped to a known media_duration) at updated_at = now,
-- state_version + 1.

create function public.control_room(
  p_room_id        text default null,
  p_action         text default null,
  p_current_time   double precision default null,
  p_playback_rate  double precision default null,
  p_user_id        text default null
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
begin
  if p_room_id is null or p_action is null or p_current_time is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id, action and current_time are required');
  end if;
  if p_action not in ('play', 'pause', 'seek', 'sync', 'rate') then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'action must be play, pause, seek, sync or rate');
  end if;
  perform watchparty_private.check_position('current_time', p_current_time);
  if p_action = 'rate' and p_playback_rate is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'playback_rate is required for rate');
  end if;
  if p_playback_rate is not null and not (p_playback_rate between 0.25 and 4) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'playback_rate must be between 0.25 and 4');
  end if;

  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  if not exists (select 1 from public.room_members where room_id = p_room_id and user_id = v_uid) then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;
  if v_room.host_user_id <> v_uid then
    perform watchparty_private.fail(403, 'NOT_HOST', 'only the host can control playback');
  end if;

  delete from watchparty_private.control_events
  where room_id = p_room_id and user_id = v_uid and at <= now() - interval '10 seconds';
  select count(*) into v_recent from watchparty_private.control_events
  where room_id = p_room_id and user_id = v_uid;
  if v_recent >= 20 then
    perform watchparty_private.fail(429, 'RATE_LIMITED', 'more than 20 controls in 10 s');
  end if;
  insert into watchparty_private.control_events (room_id, user_id) values (p_room_id, v_uid);

  update public.rooms set
    is_playing = case p_action when 'play' then true when 'pause' then false else is_playing end,
    "current_time" = case when media_duration > 0 then least(p_current_time, media_duration) else p_current_time end,
    playback_rate = coalesce(p_playback_rate, playback_rate),
    state_version = state_version + 1,
    updated_at = now()
  where room_id = p_room_id
  returning * into v_room;

  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- comments/create: members only; the message is cleaned (clean_text) to 1–2000 characters; at
-- most 5 per 10 s per user and room. anime_id and episode_number default to the room's.

create function public.create_comment(
  p_room_id          text default null,
  p_message          text default null,
  p_video_timestamp  double precision default null,
  p_anime_id         text default null,
  p_episode_number   integer default null,
  p_user_id          text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_message text;
  v_room public.rooms;
  v_member public.room_members;
  v_comment public.comments;
  v_recent integer;
begin
  if p_room_id is null or p_message is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and message are required');
  end if;
  v_message := watchparty_private.clean_text(p_message, true);
  if char_length(v_message) not between 1 and 2000 then
    perform watchparty_private.fail(400, 'INVALID_MESSAGE', 'message must be 1 to 2000 characters');
  end if;
  if p_video_timestamp is not null and not (abs(p_video_timestamp) < 'Infinity'::double precision) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'video_timestamp must be a finite number');
  end if;

  select * into v_room from public.rooms where room_id = p_room_id;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  select * into v_member from public.room_members where room_id = p_room_id and user_id = v_uid;
  if not found then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;

  select count(*) into v_recent from public.comments
  where room_id = p_room_id and user_id = v_uid and not is_system_message
    and created_at > now() - interval '10 seconds';
  if v_recent >= 5 then
    perform watchparty_private.fail(429, 'RATE_LIMITED', 'more than 5 comments in 10 s');
  end if;

  insert into public.comments (room_id, anime_id, episode_number, user_id, username, message, video_timestamp)
  values (p_room_id, coalesce(p_anime_id, v_room.anime_id), coalesce(p_episode_number, v_room.episode_number),
          v_uid, v_member.username, v_message, p_video_timestamp)
  returning * into v_comment;

  return jsonb_build_object('comment', watchparty_private.comment_json(v_comment));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- RPC track_user_presence: the liveness beat every member sends every 3 s. void → 204.
-- p_current_time and p_is_playing are jsonb so that a value of the wrong JSON type reaches this
-- function (PT400) instead of failing in PostgREST's argument cast.

create function public.track_user_presence(
  p_room_id       text default null,
  p_user_id       text default null,
  p_current_time  jsonb default null,
  p_is_playing    jsonb default null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_time double precision;
begin
  if p_room_id is null
     or jsonb_typeof(p_current_time) is distinct from 'number'
     or jsonb_typeof(p_is_playing) is distinct from 'boolean' then
    perform watchparty_private.fail(400, 'INVALID_REQUEST',
      'p_room_id, p_current_time (number) and p_is_playing (boolean) are required');
  end if;
  v_time := (p_current_time #>> '{}')::double precision;
  perform watchparty_private.check_position('p_current_time', v_time);

  if not exists (select 1 from public.rooms where room_id = p_room_id) then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;

  update public.room_members set
    "current_time" = v_time,
    is_playing = (p_is_playing #>> '{}')::boolean,
    last_seen = now()
  where room_id = p_room_id and user_id = v_uid;
  if not found then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- RPC get_room_sync_state: {room, members, server_time (epoch ms)} for members, or the
-- {error: "..."} shape the browser client reads (docs/design.md §1, docs/api.md).

create function public.get_room_sync_state(
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
  v_room public.rooms;
begin
  if p_room_id is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'p_room_id is required');
  end if;
  select * into v_room from public.rooms where room_id = p_room_id;
  if not found then
    return jsonb_build_object('error', 'Room not found');
  end if;
  if not exists (select 1 from public.room_members where room_id = p_room_id and user_id = v_uid) then
    return jsonb_build_object('error', 'Not a member of this room');
  end if;
  return jsonb_build_object(
    'room', watchparty_private.room_json(v_room),
    'members', watchparty_private.members_json(p_room_id),
    'server_time', floor(extract(epoch from clock_timestamp()) * 1000)::bigint);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- privileges: the API functions are callable by anon (they answer PT401 themselves, with the
-- contract's code) and authenticated; the helpers by nobody but their owner.

revoke all on all functions in schema watchparty_private from public, anon, authenticated;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;

revoke all on function
  public.create_room(text, text, text, double precision, text, integer, text),
  public.join_room(text, text, text),
  public.leave_room(text, text),
  public.control_room(text, text, double precision, double precision, text),
  public.create_comment(text, text, double precision, text, integer, text),
  public.track_user_presence(text, text, jsonb, jsonb),
  public.get_room_sync_state(text, text)
from public;
grant execute on function
  public.create_room(text, text, text, double precision, text, integer, text),
  public.join_room(text, text, text),
  public.leave_room(text, text),
  public.control_room(text, text, double precision, double precision, text),
  public.create_comment(text, text, double precision, text, integer, text),
  public.track_user_presence(text, text, jsonb, jsonb),
  public.get_room_sync_state(text, text)
to anon, authenticated, service_role;
