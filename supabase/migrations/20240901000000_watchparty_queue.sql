-- watchparty: a shared queue (docs/api.md, "The queue").
--
-- A room's ordered entries: a title, a duration and either the private fingerprint of a local
-- file (media_fp, keyed with the room id as the "Same file?" report is) or an http(s) URL. A table
-- of its own rather than a JSON column of rooms: every control fans the rooms row out to every
-- member, and the queue (up to 100 entries of up to 2 KiB each) would ride along every time.
-- Entries are never deleted while the room lives: a removal sets removed_at (an UPDATE, which
-- Realtime filters by row security; DELETE events it does not). rooms.queue_entry_id is the
-- entry playing. The host adds, removes, moves and plays entries through public.queue_add,
-- queue_remove, queue_move and queue_next (rooms/queue/… Edge Function endpoints), each counted
-- as a control.

-- ---------------------------------------------------------------------------------------------
-- tables

create table public.room_queue (
  id          bigint generated always as identity primary key,
  room_id     text not null references public.rooms (room_id) on delete cascade,
  position    integer not null,
  title       text not null check (char_length(title) between 1 and 200),
  duration    double precision check (duration >= 0 and duration <= 604800),
  media_fp    text check (media_fp ~ '^[0-9a-f]{32}$'),
  media_url   text check (media_url is null or watchparty_private.is_media_url(media_url)),
  added_by    uuid not null,
  created_at  timestamptz not null default now(),
  removed_at  timestamptz,
  check ((media_fp is null) <> (media_url is null))
);
create index room_queue_room_idx on public.room_queue (room_id, position);

alter table public.rooms add column queue_entry_id bigint;
comment on column public.rooms.queue_entry_id is 'the queue entry playing (public.room_queue.id), null when none';

alter table public.room_queue enable row level security;
create policy room_queue_members_read on public.room_queue
  for select to anon, authenticated
  using (watchparty_private.is_room_member(room_id));
revoke all on public.room_queue from anon, authenticated;
grant select on public.room_queue to anon, authenticated;
grant all on public.room_queue to service_role;
alter table public.room_queue replica identity full;
alter publication supabase_realtime add table public.room_queue;

-- ---------------------------------------------------------------------------------------------
-- helpers

create function watchparty_private.entry_json(p_entry public.room_queue)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select to_jsonb(p_entry) || jsonb_build_object(
    'created_at', watchparty_private.ts(p_entry.created_at),
    'removed_at', case when p_entry.removed_at is null then null else watchparty_private.ts(p_entry.removed_at) end)
$$;

-- The room, locked, for a host-only queue change by the caller: member, host, counted as a control.
create function watchparty_private.queue_room(p_room_id text, p_uid uuid)
returns public.rooms
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_room public.rooms;
begin
  perform watchparty_private.check_room_id(p_room_id);
  select * into v_room from public.rooms where room_id = p_room_id for no key update;
  if not found then
    perform watchparty_private.fail(404, 'ROOM_NOT_FOUND', 'room not found');
  end if;
  if not exists (select 1 from public.room_members where room_id = p_room_id and user_id = p_uid and left_at is null) then
    perform watchparty_private.fail(403, 'NOT_MEMBER', 'not a member of this room');
  end if;
  if v_room.host_user_id <> p_uid then
    perform watchparty_private.fail(403, 'NOT_HOST', 'only the host can control playback');
  end if;
  perform watchparty_private.take_control(p_room_id, p_uid);
  return v_room;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- RPCs (called by the Edge Functions as the caller)

create function public.queue_add(
  p_room_id    text default null,
  p_title      text default null,
  p_duration   double precision default null,
  p_media_fp   text default null,
  p_media_url  text default null,
  p_user_id    text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_title text := watchparty_private.clean_field('title', p_title, 200);
  v_entry public.room_queue;
  v_pos integer;
begin
  if v_title is null or v_title = '' then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'title is required (1 to 200 characters)');
  end if;
  perform watchparty_private.check_seconds('duration', p_duration);
  if p_media_fp is not null and p_media_fp !~ '^[0-9a-f]{32}$' then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'media_fp must be 32 lower-case hex digits');
  end if;
  perform watchparty_private.check_media_url(p_media_url);
  if (p_media_fp is null) = (p_media_url is null) then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'an entry has either media_fp (a local file) or media_url');
  end if;
  perform watchparty_private.queue_room(p_room_id, v_uid);
  if (select count(*) from public.room_queue where room_id = p_room_id and removed_at is null) >= 100 then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'the queue is full (at most 100 entries)');
  end if;
  select coalesce(max(position) + 1, 0) into v_pos from public.room_queue where room_id = p_room_id and removed_at is null;
  insert into public.room_queue (room_id, position, title, duration, media_fp, media_url, added_by)
  values (p_room_id, v_pos, v_title, p_duration, p_media_fp, p_media_url, v_uid)
  returning * into v_entry;
  return jsonb_build_object('entry', watchparty_private.entry_json(v_entry));
end
$$;

create function public.queue_remove(
  p_room_id   text default null,
  p_entry_id  bigint default null,
  p_user_id   text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_entry public.room_queue;
begin
  if p_entry_id is null or p_entry_id <= 0 then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'entry_id must be a positive integer');
  end if;
  perform watchparty_private.queue_room(p_room_id, v_uid);
  select * into v_entry from public.room_queue where room_id = p_room_id and id = p_entry_id;
  if not found then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'entry_id must be an entry of the room''s queue');
  end if;
  if v_entry.removed_at is not null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'that entry was removed from the queue');
  end if;
  update public.room_queue set removed_at = now() where id = p_entry_id returning * into v_entry;
  return jsonb_build_object('entry', watchparty_private.entry_json(v_entry));
end
$$;

create function public.queue_move(
  p_room_id   text default null,
  p_entry_id  bigint default null,
  p_to        integer default null,
  p_user_id   text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_uid uuid := watchparty_private.caller(p_user_id);
  v_ids bigint[];
  v_from integer;
  v_to integer;
  i integer;
begin
  if p_entry_id is null or p_entry_id <= 0 then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'entry_id must be a positive integer');
  end if;
  if p_to is null or p_to < 0 then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'to must be a non-negative integer (the new index, 0 = first)');
  end if;
  perform watchparty_private.queue_room(p_room_id, v_uid);
  select array_agg(id order by position, id) into v_ids from public.room_queue where room_id = p_room_id and removed_at is null;
  v_from := array_position(v_ids, p_entry_id);
  if v_from is null then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'entry_id must be an entry of the room''s queue');
  end if;
  v_ids := v_ids[1:v_from - 1] || v_ids[v_from + 1:];
  v_to := least(p_to, coalesce(array_length(v_ids, 1), 0));
  v_ids := v_ids[1:v_to] || p_entry_id || v_ids[v_to + 1:];
  for i in 1 .. array_length(v_ids, 1) loop
    update public.room_queue set position = i - 1 where id = v_ids[i] and position <> i - 1;
  end loop;
  return jsonb_build_object('entries', (
    select coalesce(jsonb_agg(watchparty_private.entry_json(q) order by q.position, q.id), '[]')
    from public.room_queue q where q.room_id = p_room_id and q.removed_at is null));
end
$$;

create function public.queue_next(
  p_room_id        text default null,
  p_entry_id       bigint default null,
  p_from_entry_id  bigint default null,
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
  v_cur public.room_queue;
  v_next public.room_queue;
begin
  if p_entry_id is not null and p_entry_id <= 0 then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'entry_id must be a positive integer');
  end if;
  if p_from_entry_id is not null and p_from_entry_id <= 0 then
    perform watchparty_private.fail(400, 'INVALID_REQUEST', 'from_entry_id must be a positive integer');
  end if;
  v_room := watchparty_private.queue_room(p_room_id, v_uid);
  if p_from_entry_id is not null and v_room.queue_entry_id is distinct from p_from_entry_id then
    return jsonb_build_object('room', watchparty_private.room_json(v_room)); -- already moved on
  end if;
  if p_entry_id is not null then
    select * into v_next from public.room_queue where room_id = p_room_id and id = p_entry_id;
    if not found then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', 'entry_id must be an entry of the room''s queue');
    end if;
    if v_next.removed_at is not null then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', 'that entry was removed from the queue');
    end if;
  else
    select * into v_cur from public.room_queue where id = v_room.queue_entry_id;
    select * into v_next from public.room_queue q
    where q.room_id = p_room_id and q.removed_at is null
      and (v_cur.id is null or q.position > v_cur.position or (q.position = v_cur.position and q.id > v_cur.id))
    order by q.position, q.id limit 1;
    if not found then
      perform watchparty_private.fail(400, 'INVALID_REQUEST', 'the queue has no entry after the one playing');
    end if;
  end if;
  update public.rooms set
    media_url = v_next.media_url,
    media_title = v_next.title,
    media_duration = v_next.duration,
    queue_entry_id = v_next.id,
    "current_time" = 0,
    is_playing = case when p_from_entry_id is not null then true else is_playing end,
    waiting_for = '[]'::jsonb,
    start_pending = false,
    state_version = state_version + 1,
    updated_at = now()
  where room_id = p_room_id
  returning * into v_room;
  return jsonb_build_object('room', watchparty_private.room_json(v_room));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- privileges

revoke all on all functions in schema watchparty_private from public, anon, authenticated;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;
grant execute on function watchparty_private.may_use_room_topic(text) to anon, authenticated, service_role;

revoke all on function
  public.queue_add(text, text, double precision, text, text, text),
  public.queue_remove(text, bigint, text),
  public.queue_move(text, bigint, integer, text),
  public.queue_next(text, bigint, bigint, text)
from public;
grant execute on function
  public.queue_add(text, text, double precision, text, text, text),
  public.queue_remove(text, bigint, text),
  public.queue_move(text, bigint, integer, text),
  public.queue_next(text, bigint, bigint, text)
to anon, authenticated, service_role;
