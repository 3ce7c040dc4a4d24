-- watchparty: "Same file?" (docs/api.md, "Same file?").
--
-- Each member reports a private fingerprint of the media they play with a liveness beat:
-- room_members.media_fp (32 lower-case hex digits: an HMAC keyed with the room id, computed by
-- the client from its local file, so it is worth nothing outside the room) and
-- room_members.media_duration (seconds). track_user_presence takes them as optional arguments
-- (p_media_fp, p_media_duration; absent or null leaves them as they are, an empty p_media_fp
-- clears the fingerprint), so a client that never sends them is unaffected. A member who left
-- and joins again starts with none (their new client reports its own). The room never stores a
-- file name or path.

-- ---------------------------------------------------------------------------------------------
-- columns

alter table public.room_members add column media_fp text
  constraint room_members_media_fp_check check (media_fp ~ '^[0-9a-f]{32}$');
alter table public.room_members add column media_duration double precision
  constraint room_members_media_duration_check check (media_duration >= 0 and media_duration <= 604800);
comment on column public.room_members.media_fp is
  'the member''s media fingerprint: HMAC-SHA256 keyed with the room id over the file''s size and fixed chunks, 128 bits in hex';
comment on column public.room_members.media_duration is 'the length of the member''s media in seconds, as their player reports it';

-- A member back in the room (left_at cleared by a join) starts without the media of before.
create function watchparty_private.rejoin_clears_media()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.left_at is not null and new.left_at is null then
    new.media_fp := null;
    new.media_duration := null;
  end if;
  return new;
end
$$;
create trigger room_members_rejoin_clears_media before update on public.room_members
  for each row execute function watchparty_private.rejoin_clears_media();

-- ---------------------------------------------------------------------------------------------
-- RPC track_user_presence with the media report; otherwise as in the wait migration (p_buffering
-- kept) and the lifecycle migration before it: the
-- liveness beat every member's client sends every 3 s. Refreshes the client (p_client_id; without
-- it, all of the caller's clients, or a new one when there are none) and the member row; the
-- first beat of an unannounced member announces them; the owner returns; then the room's sweep.
-- The arguments are jsonb so that a value of the wrong JSON type reaches this function (PT400).

drop function public.track_user_presence(text, text, jsonb, jsonb, jsonb, jsonb);
create function public.track_user_presence(
  p_room_id       text default null,
  p_user_id       text default null,
  p_current_time  jsonb default null,
  p_is_playing    jsonb default null,
  p_client_id     jsonb default null,
  p_buffering     jsonb default null,
  p_media_fp      jsonb default null,
  p_media_duration jsonb default null
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
  v_fp text;
  v_duration double precision;
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
  if p_media_fp is not null and jsonb_typeof(p_media_fp) <> 'null' then
    if jsonb_typeof(p_media_fp) <> 'string' or (p_media_fp #>> '{}') !~ '^([0-9a-f]{32})?$' then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', 'p_media_fp must be 32 lower-case hex digits, or empty to clear it');
    end if;
    v_fp := p_media_fp #>> '{}';
  end if;
  if p_media_duration is not null and jsonb_typeof(p_media_duration) <> 'null' then
    if jsonb_typeof(p_media_duration) <> 'number' then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', 'p_media_duration must be a number');
    end if;
    v_duration := (p_media_duration #>> '{}')::double precision;
    perform watchparty_private.check_seconds('p_media_duration', v_duration);
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
    last_seen = now(),
    media_fp = case when v_fp is null then media_fp else nullif(v_fp, '') end,
    media_duration = coalesce(v_duration, media_duration)
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
-- privileges

revoke all on all functions in schema watchparty_private from public, anon, authenticated;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;
grant execute on function watchparty_private.may_use_room_topic(text) to anon, authenticated, service_role;

revoke all on function public.track_user_presence(text, text, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb) from public;
grant execute on function public.track_user_presence(text, text, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
to anon, authenticated, service_role;
