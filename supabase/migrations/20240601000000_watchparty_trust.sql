-- watchparty: trust boundaries (docs/security.md is the spec; GitHub-style issue 10).
--
-- What this migration changes, on top of the schema and functions migrations (which deployed
-- projects have already run, so they stay as they were and everything here is additive or
-- `create or replace`):
--
--   media_url    only http(s) URLs with a host, at most 2048 bytes, no white space or controls:
--                anything else would be an instruction to every guest's mpv (av://lavfi…,
--                edl://, file://, plain paths). Refused with 400 INVALID_REQUEST, and a CHECK
--                constraint; stored URLs that break the rule are cleared.
--   fields       media_title ≤ 200 and anime_id ≤ 64 characters after cleaning (anime ids are
--                now cleaned like the other text); media_duration and every position
--                (current_time, p_current_time, video_timestamp) within 0 … 604800 s; CHECK
--                constraints for all of them.
--   room_id      anything but ^[a-z0-9]{10}$ is an unknown room (404 ROOM_NOT_FOUND; the
--                {"error":"Room not found"} shape in get_room_sync_state).
--   text         clean_text follows package textsafe exactly: tabs, lone carriage returns and
--                U+2028/U+2029 become spaces (comments included), a CR LF is one newline in
--                comments, the byte-order mark is dropped.
--   username     also needs a visible character, and may not be "system" in any case.
--   soft leaves  room_members.left_at: a leave is an UPDATE (left_at = now()), never a DELETE,
--                because Supabase Realtime applies no row security to DELETE events — every
--                subscriber of room_members saw every leave of every room. Current membership
--                is "row exists and left_at is null" everywhere.
--   rates        rooms created: 10 a minute per user; joins and leaves: 20 a minute per user;
--                join/leave notices: 4 a minute per member and room, 30 a minute per room.
--   sessions     a user token whose session no longer exists in auth.sessions (signed out) is
--                refused: 401 UNAUTHORIZED from the functions; no rows through RLS.
--   expiry       watchparty_private.expire_idle_rooms(): rooms with no member seen and no
--                control for 7 days; scheduled hourly with pg_cron when it is installed.
--   realtime     policies on realtime.messages: topics room:<id> and room:<id>:… are for the
--                current members of <id> only (Realtime Authorization, private channels).

-- ---------------------------------------------------------------------------------------------
-- columns and bookkeeping

alter table public.room_members add column left_at timestamptz(3);
comment on column public.room_members.left_at is
  'when the member left (null: a current member); a leave is an UPDATE, never a DELETE';

-- Rate bookkeeping per user: one row per room created ('create_room') and per join or leave
-- ('join_leave'), kept a minute.
create table watchparty_private.user_events (
  user_id  uuid not null,
  kind     text not null check (kind in ('create_room', 'join_leave')),
  at       timestamptz not null default now()
);
create index user_events_idx on watchparty_private.user_events (user_id, kind, at);

-- One row per join/leave notice written, kept a minute.
create table watchparty_private.notice_events (
  room_id  text not null,
  user_id  uuid not null,
  at       timestamptz not null default now()
);
create index notice_events_idx on watchparty_private.notice_events (room_id, at);

alter table watchparty_private.user_events enable row level security;
alter table watchparty_private.notice_events enable row level security;
revoke all on watchparty_private.user_events, watchparty_private.notice_events from public, anon, authenticated;

-- For expire_idle_rooms.
create index rooms_updated_at_idx on public.rooms (updated_at);

-- ---------------------------------------------------------------------------------------------
-- checks

-- The one rule for a room's media URL (the embedded server's and every client's are the same):
-- "http://" or "https://" (lower case: mpv may not read "HTTPS://x" as a URL at all, but as a
-- relative path), a non-empty host (a name or an [IPv6] literal, optionally
-- after userinfo and before a port), then nothing or a path, query or fragment; at most 2048
-- bytes; no white space (Go's unicode.IsSpace), no C0/C1 control and no format character (Cf)
-- anywhere.
create function watchparty_private.is_media_url(p_url text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_url is not null
    and octet_length(p_url) <= 2048
    and p_url !~ ('[\u0001-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000'
      -- format characters (Unicode Cf: zero-width, bidi controls, soft hyphen, BOM, tags, …)
      || '\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e'
      || '\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f'
      || '\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]')
    and p_url ~ ('^https?://'
      || '([^/?#]*@)?'
      || '(\[[0-9A-Fa-f:.]+\]|[-A-Za-z0-9._~%!$&''()*+,;=\u00a1-\U0010ffff]+)'
      || '(:[0-9]*)?'
      || '([/?#]|$)')
$$;

create function watchparty_private.check_media_url(p_url text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_url is not null and not watchparty_private.is_media_url(p_url) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST',
      'media_url must be an http:// or https:// URL (at most 2048 bytes, no spaces or control characters)');
  end if;
end
$$;

-- A position or duration in seconds: 0 … 604800 (one week). NaN is above every number in
-- PostgreSQL, so the upper bound also refuses it.
create function watchparty_private.check_seconds(p_name text, p_value double precision)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_value is not null and not (p_value >= 0 and p_value <= 604800) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', p_name || ' must be between 0 and 604800 seconds');
  end if;
end
$$;

-- Text from users as every client will see it: the rule of package textsafe, which the embedded
-- server and the client apply (its tests are mirrored in tests/sql/text_test.sql):
--   - terminal escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, other ESC sequences) removed;
--   - a CR LF pair is one newline; tabs, lone carriage returns and the line and paragraph
--     separators (U+2028, U+2029) become one space, and so do newlines except in multi-line text
--     (comments), which keeps them;
--   - other C0 and C1 controls, DEL, bidi embeddings, overrides, isolates and marks, the
--     byte-order mark (U+FEFF) and private-use characters removed;
--   - surrounding white space trimmed.
-- (Replaces the functions migration's version, which kept tabs in comments, the BOM and the
-- separators, and dropped carriage returns: "a\rb" was "ab".)
create or replace function watchparty_private.clean_text(p_text text, p_multiline boolean)
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
  v := replace(v, E'\r\n', E'\n');
  if p_multiline then
    v := regexp_replace(v, '[\t\r\u2028\u2029]', ' ', 'g');
  else
    v := regexp_replace(v, '[\t\n\r\u2028\u2029]', ' ', 'g');
  end if;
  v := regexp_replace(v, '[\u0001-\u0009\u000b-\u001f\u007f-\u009f]', '', 'g');  -- newlines left are kept
  v := regexp_replace(v, '[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]', '', 'g');
  return watchparty_private.trim_space(v);
end
$$;

-- Single-line text from users, cleaned, at most p_max characters (INVALID_REQUEST beyond).
create function watchparty_private.clean_field(p_name text, p_value text, p_max integer)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text := watchparty_private.clean_text(p_value, false);
begin
  if char_length(v) > p_max then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', p_name || ' must be at most ' || p_max || ' characters');
  end if;
  return v;
end
$$;

-- Room ids are 10 characters of [a-z0-9]; anything else is answered like an unknown room,
-- before the id is used for anything.
create function watchparty_private.check_room_id(p_room_id text)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_room_id is not null and p_room_id !~ '^[a-z0-9]{10}$' then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
end
$$;

-- Characters that show nothing on their own: white space, controls, Unicode's default-ignorable
-- code points (zero-width characters, joiners, bidi controls, variation selectors, tags, Hangul
-- fillers), the common combining-mark blocks and the braille blank.
create function watchparty_private.invisible_chars()
returns text
language sql
immutable
set search_path = ''
as $$
  select '\t\n\v\f\r \u0001-\u001f\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f'
    || '\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8'
    || '\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f'
    || '\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff'
$$;

-- A cleaned username: 1–32 characters, at least one visible, not "system" in any case (also not
-- once the invisible characters are taken out: "Sys\u200btem"). INVALID_USERNAME otherwise.
create or replace function watchparty_private.clean_username(p_username text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_name text := coalesce(watchparty_private.clean_text(p_username, false), '');
  v_invisible text := watchparty_private.invisible_chars();
begin
  if char_length(v_name) not between 1 and 32 then
    perform watchparty_private.fail(400, 'INVALID_USERNAME', 'username must be 1 to 32 characters');
  end if;
  if v_name !~ ('[^' || v_invisible || ']') then
    perform watchparty_private.fail(400, 'INVALID_USERNAME', 'username must have a visible character');
  end if;
  if lower(regexp_replace(v_name, '[' || v_invisible || ']', '', 'g')) = 'system' then
    perform watchparty_private.fail(400, 'INVALID_USERNAME', 'username "system" is reserved');
  end if;
  return v_name;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- sessions

-- Whether the request's token belongs to a live session of p_uid: GoTrue puts the session's id
-- in every access token (`session_id`) and deletes the row when the user signs out, so a token
-- of an ended session still verifies (until it expires) but names no session.
create function watchparty_private.session_live(p_uid uuid)
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce((
    select exists (
      select 1 from auth.sessions s
      where s.id = c.sid::uuid and s.user_id = p_uid and (s.not_after is null or s.not_after > now()))
    from (select auth.jwt() ->> 'session_id' as sid) c
    where c.sid ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'), false)
$$;

-- The caller's user id; PT401 without a user token or when its session has ended.
create or replace function watchparty_private.caller(p_user_id text)
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
  if not watchparty_private.session_live(v_uid) then
    perform watchparty_private.fail(401, 'UNAUTHORIZED', 'the session of this token has ended: sign in again');
  end if;
  if p_user_id is not null and p_user_id <> v_uid::text then
    perform watchparty_private.fail(403, 'USER_MISMATCH', 'user_id is not the caller');
  end if;
  return v_uid;
end
$$;

-- Membership test of the row policies and of Realtime Authorization: a current member (left_at
-- null) with a live session.
create or replace function watchparty_private.is_room_member(p_room_id text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.room_members m
    where m.room_id = p_room_id and m.user_id = auth.uid() and m.left_at is null
  ) and watchparty_private.session_live(auth.uid())
$$;

-- ---------------------------------------------------------------------------------------------
-- rates

-- Counts one event of p_kind for the user, or raises 429 when p_limit happened in the last
-- minute. An advisory lock per user and kind serialises the count with the insert, so parallel
-- requests cannot slip past the limit; a refused call counts nothing (its transaction rolls back).
create function watchparty_private.take_user_rate(p_uid uuid, p_kind text, p_limit integer, p_message text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended('watchparty:' || p_kind || ':' || p_uid::text, 0));
  delete from watchparty_private.user_events
  where user_id = p_uid and kind = p_kind and at <= now() - interval '1 minute';
  if (select count(*) from watchparty_private.user_events where user_id = p_uid and kind = p_kind) >= p_limit then
    perform watchparty_private.fail(429, 'RATE_LIMITED', p_message);
  end if;
  insert into watchparty_private.user_events (user_id, kind) values (p_uid, p_kind);
end
$$;

-- Whether a join/leave notice of p_uid may be written in p_room_id now (at most 4 a minute per
-- member, 30 a minute per room), counting it when so. Callers hold the room's row lock, which
-- serialises the count with the insert.
create function watchparty_private.take_notice(p_room_id text, p_uid uuid)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  delete from watchparty_private.notice_events where room_id = p_room_id and at <= now() - interval '1 minute';
  if (select count(*) from watchparty_private.notice_events where room_id = p_room_id and user_id = p_uid) >= 4
     or (select count(*) from watchparty_private.notice_events where room_id = p_room_id) >= 30 then
    return false;
  end if;
  insert into watchparty_private.notice_events (room_id, user_id) values (p_room_id, p_uid);
  return true;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rows as JSON, positions

create or replace function watchparty_private.member_json(p_member public.room_members)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(p_member) || jsonb_build_object(
    'last_seen', watchparty_private.ts(p_member.last_seen),
    'joined_at', watchparty_private.ts(p_member.joined_at),
    'left_at', watchparty_private.ts(p_member.left_at))
$$;

-- The current members, in the order they joined (the hand-over order); on a millisecond tie the
-- host first (a room's creator and the first to join can share a millisecond).
create or replace function watchparty_private.members_json(p_room_id text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(watchparty_private.member_json(m) order by m.joined_at, m.role = 'host' desc, m.user_id), '[]')
  from public.room_members m
  where m.room_id = p_room_id and m.left_at is null
$$;

-- As before, and never past a week (the limit of every stored position).
create or replace function watchparty_private.position_at(p_room public.rooms, p_at timestamptz)
returns double precision
language sql
stable
set search_path = ''
as $$
  select least(case when p_room.media_duration > 0 then least(pos, p_room.media_duration) else pos end, 604800)
  from (select p_room."current_time" + case when p_room.is_playing
          then greatest(extract(epoch from p_at - p_room.updated_at)::double precision, 0) * p_room.playback_rate
          else 0 end as pos) p
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/create

create or replace function public.create_room(
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
  v_title text;
  v_anime text;
  v_room public.rooms;
  v_member public.room_members;
begin
  if p_username is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'username is required');
  end if;
  v_name := watchparty_private.clean_username(p_username);
  perform watchparty_private.check_media_url(p_media_url);
  v_title := watchparty_private.clean_field('media_title', p_media_title, 200);
  perform watchparty_private.check_seconds('media_duration', p_media_duration);
  v_anime := watchparty_private.clean_field('anime_id', p_anime_id, 64);

  perform watchparty_private.take_user_rate(v_uid, 'create_room', 10, 'more than 10 rooms created in a minute');

  loop
    begin
      insert into public.rooms (room_id, host_user_id, media_url, media_title, media_duration, anime_id, episode_number)
      values (watchparty_private.new_room_id(), v_uid, p_media_url, v_title, p_media_duration, v_anime, p_episode_number)
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
-- rooms/join: joining while a current member (reconnect, a second terminal, the creator opening
-- its own room) keeps the role, updates the name and last_seen, and adds nothing. A first join,
-- or a join after a leave, makes the caller a current member — joined_at now, host when the room's
-- host_user_id is the caller — and adds "<name> joined the room" (within the notice rate).

create or replace function public.join_room(
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
  v_known boolean;
begin
  if p_room_id is null or p_username is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'room_id and username are required');
  end if;
  v_name := watchparty_private.clean_username(p_username);
  perform watchparty_private.check_room_id(p_room_id);

  -- The row lock serialises joins and leaves of one room (one notice for racing first joins;
  -- the notice count).
  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;

  select * into v_member from public.room_members where room_id = p_room_id and user_id = v_uid;
  v_known := found;

  perform watchparty_private.take_user_rate(v_uid, 'join_leave', 20, 'more than 20 joins and leaves in a minute');

  if v_known and v_member.left_at is null then
    update public.room_members set username = v_name, last_seen = now()
    where room_id = p_room_id and user_id = v_uid
    returning * into v_member;
  else
    if v_known then
      update public.room_members set
        username = v_name,
        role = case when v_room.host_user_id = v_uid then 'host' else 'member' end,
        "current_time" = 0,
        is_playing = false,
        last_seen = now(),
        joined_at = now(),
        left_at = null
      where room_id = p_room_id and user_id = v_uid
      returning * into v_member;
    else
      insert into public.room_members (room_id, user_id, username, role)
      values (v_room.room_id, v_uid, v_name,
              case when v_room.host_user_id = v_uid then 'host' else 'member' end)
      returning * into v_member;
    end if;
    if watchparty_private.take_notice(p_room_id, v_uid) then
      perform watchparty_private.system_comment(v_room, v_name || ' joined the room');
    end if;
  end if;

  return jsonb_build_object(
    'room', watchparty_private.room_json(v_room),
    'member', watchparty_private.member_json(v_member),
    'members', watchparty_private.members_json(v_room.room_id));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rooms/leave: sets the caller's left_at (and role member) — an UPDATE, so Realtime delivers it
-- through RLS to the room's current members only — and adds "<name> left the room" (within the
-- notice rate). A leaving host hands the room to the longest-present current member ("<name> is
-- now the host", a new state_version). The last member leaving keeps host_user_id (the host gets
-- the room back by joining again).

create or replace function public.leave_room(
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
  perform watchparty_private.check_room_id(p_room_id);

  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  if not exists (select 1 from public.room_members where room_id = p_room_id and user_id = v_uid and left_at is null) then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;

  perform watchparty_private.take_user_rate(v_uid, 'join_leave', 20, 'more than 20 joins and leaves in a minute');

  update public.room_members set left_at = now(), role = 'member'
  where room_id = p_room_id and user_id = v_uid
  returning * into v_member;

  if watchparty_private.take_notice(p_room_id, v_uid) then
    perform watchparty_private.system_comment(v_room, v_member.username || ' left the room');
  end if;

  if v_room.host_user_id = v_uid then
    select * into v_heir from public.room_members
    where room_id = p_room_id and left_at is null
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
-- sync/control

create or replace function public.control_room(
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
  perform watchparty_private.check_seconds('current_time', p_current_time);
  if p_action = 'rate' and p_playback_rate is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'playback_rate is required for rate');
  end if;
  if p_playback_rate is not null and not (p_playback_rate between 0.25 and 4) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'playback_rate must be between 0.25 and 4');
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
-- comments/create

create or replace function public.create_comment(
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
  v_anime text;
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
  perform watchparty_private.check_seconds('video_timestamp', p_video_timestamp);
  v_anime := watchparty_private.clean_field('anime_id', p_anime_id, 64);
  perform watchparty_private.check_room_id(p_room_id);

  select * into v_room from public.rooms where room_id = p_room_id;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  select * into v_member from public.room_members where room_id = p_room_id and user_id = v_uid and left_at is null;
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
  values (p_room_id, coalesce(v_anime, v_room.anime_id), coalesce(p_episode_number, v_room.episode_number),
          v_uid, v_member.username, v_message, p_video_timestamp)
  returning * into v_comment;

  return jsonb_build_object('comment', watchparty_private.comment_json(v_comment));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- RPC track_user_presence

create or replace function public.track_user_presence(
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
  perform watchparty_private.check_seconds('p_current_time', v_time);
  perform watchparty_private.check_room_id(p_room_id);

  if not exists (select 1 from public.rooms where room_id = p_room_id) then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;

  update public.room_members set
    "current_time" = v_time,
    is_playing = (p_is_playing #>> '{}')::boolean,
    last_seen = now()
  where room_id = p_room_id and user_id = v_uid and left_at is null;
  if not found then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- RPC get_room_sync_state: a malformed room id is an unknown room ({"error":"Room not found"}).

create or replace function public.get_room_sync_state(
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
  if p_room_id !~ '^[a-z0-9]{10}$' then
    return jsonb_build_object('error', 'Room not found');
  end if;
  select * into v_room from public.rooms where room_id = p_room_id;
  if not found then
    return jsonb_build_object('error', 'Room not found');
  end if;
  if not exists (select 1 from public.room_members where room_id = p_room_id and user_id = v_uid and left_at is null) then
    return jsonb_build_object('error', 'Not a member of this room');
  end if;
  return jsonb_build_object(
    'room', watchparty_private.room_json(v_room),
    'members', watchparty_private.members_json(p_room_id),
    'server_time', floor(extract(epoch from clock_timestamp()) * 1000)::bigint);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- room expiry

-- Deletes (with their members and comments) up to p_limit rooms that have had no control, no
-- hand-over and no member seen (join or presence beat) for 7 days, oldest first, and prunes the
-- rate bookkeeping of users who went quiet. Returns the number of rooms deleted. Run it hourly
-- (pg_cron, below; docs/deploy-supabase.md).
create function watchparty_private.expire_idle_rooms(p_limit integer default 1000)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  with idle as (
    select r.room_id from public.rooms r
    where r.updated_at < now() - interval '7 days'
      and not exists (select 1 from public.room_members m
                      where m.room_id = r.room_id and m.last_seen >= now() - interval '7 days')
    order by r.updated_at
    limit p_limit
    for update skip locked
  )
  delete from public.rooms r using idle where r.room_id = idle.room_id;
  get diagnostics v_deleted = row_count;

  delete from watchparty_private.control_events where at <= now() - interval '10 seconds';
  delete from watchparty_private.user_events where at <= now() - interval '1 minute';
  delete from watchparty_private.notice_events where at <= now() - interval '1 minute';
  return v_deleted;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- rows stored before these rules: cleared or clamped, then the rules become CHECK constraints.

update public.rooms set media_url = null
where media_url is not null and not watchparty_private.is_media_url(media_url);
update public.rooms set media_title = left(media_title, 200) where char_length(media_title) > 200;
update public.rooms set anime_id = left(watchparty_private.clean_text(anime_id, false), 64)
where anime_id is distinct from left(watchparty_private.clean_text(anime_id, false), 64);
update public.rooms set media_duration = null where not (media_duration <= 604800);
update public.rooms set "current_time" = case when "current_time" = 'NaN' then 0 else 604800 end
where not ("current_time" <= 604800);
update public.room_members set "current_time" = case when "current_time" > 604800 and "current_time" <> 'NaN' then 604800 else 0 end
where not ("current_time" >= 0 and "current_time" <= 604800);
update public.comments set video_timestamp = null where not (video_timestamp >= 0 and video_timestamp <= 604800);
update public.comments set anime_id = left(watchparty_private.clean_text(anime_id, false), 64)
where anime_id is distinct from left(watchparty_private.clean_text(anime_id, false), 64);

alter table public.rooms
  add constraint rooms_media_url_http check (media_url is null or watchparty_private.is_media_url(media_url)),
  add constraint rooms_media_title_length check (char_length(media_title) <= 200),
  add constraint rooms_anime_id_length check (char_length(anime_id) <= 64),
  add constraint rooms_media_duration_week check (media_duration <= 604800),
  add constraint rooms_current_time_week check ("current_time" <= 604800);
alter table public.room_members
  add constraint room_members_current_time_week check ("current_time" >= 0 and "current_time" <= 604800);
alter table public.comments
  add constraint comments_video_timestamp_week check (video_timestamp >= 0 and video_timestamp <= 604800),
  add constraint comments_anime_id_length check (char_length(anime_id) <= 64);

-- ---------------------------------------------------------------------------------------------
-- Realtime Authorization: a room's channel topics, room:<id> and room:<id>:<anything>, are for
-- the current members of <id> (with a live session). Realtime checks these policies when a
-- private channel is joined: select → may receive broadcasts and presence, insert → may send
-- broadcasts and track presence. Topics of no room match no policy, so nobody can use them once
-- the project allows private channels only (docs/deploy-supabase.md).

create function watchparty_private.may_use_room_topic(p_topic text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(watchparty_private.is_room_member(substring(p_topic from '^room:([a-z0-9]{10})(?::|$)')), false)
$$;

do $$
begin
  if to_regclass('realtime.messages') is null then
    raise notice 'watchparty: no realtime.messages (not a Supabase database?): room channel policies not created';
    return;
  end if;
  execute $policy$
    create policy watchparty_room_topics_receive on realtime.messages
      for select to authenticated
      using (realtime.messages.extension in ('broadcast', 'presence')
             and (select watchparty_private.may_use_room_topic(realtime.topic())))
  $policy$;
  execute $policy$
    create policy watchparty_room_topics_send on realtime.messages
      for insert to authenticated
      with check (realtime.messages.extension in ('broadcast', 'presence')
                  and (select watchparty_private.may_use_room_topic(realtime.topic())))
  $policy$;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- pg_cron, when the project has it (Database → Extensions): expire idle rooms every hour.

do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    perform cron.schedule('watchparty-expire-idle-rooms', '17 * * * *',
      'select watchparty_private.expire_idle_rooms()');
  else
    raise notice 'watchparty: pg_cron is not installed: schedule watchparty_private.expire_idle_rooms() yourself (docs/deploy-supabase.md)';
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- privileges: the new helpers are for their owner only, except the two membership tests that
-- row policies call as the requesting role.

revoke all on all functions in schema watchparty_private from public, anon, authenticated;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;
grant execute on function watchparty_private.may_use_room_topic(text) to anon, authenticated, service_role;
