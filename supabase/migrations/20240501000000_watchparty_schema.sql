-- watchparty: tables, row-level security and the realtime publication.
--
-- Column names are the contract (docs/api.md, "Rows"): the embedded server's SQLite schema
-- uses the same names, and realtime payloads and function replies use them as JSON keys.
-- "current_time" is a keyword in SQL, so it is always quoted.
--
-- Clients only read (through RLS: members see their room's rows). Every write goes through the
-- security definer functions of the next migration, which take the user from auth.uid().

create schema if not exists watchparty_private;
comment on schema watchparty_private is
  'watchparty helpers and bookkeeping; not exposed through the API';

create table public.rooms (
  room_id         text primary key check (room_id ~ '^[a-z0-9]{10}$'),
  host_user_id    uuid not null,
  media_url       text,
  media_title     text,
  media_duration  double precision check (media_duration >= 0),
  anime_id        text,
  episode_number  integer,
  is_playing      boolean not null default false,
  "current_time"  double precision not null default 0 check ("current_time" >= 0),
  playback_rate   double precision not null default 1 check (playback_rate between 0.25 and 4),
  state_version   bigint not null default 0,
  updated_at      timestamptz(3) not null default now(),
  created_at      timestamptz(3) not null default now()
);
comment on column public.rooms."current_time" is 'playback position in seconds at updated_at';

create table public.room_members (
  room_id         text not null references public.rooms (room_id) on delete cascade,
  user_id         uuid not null references auth.users (id) on delete cascade,
  username        text not null,
  role            text not null default 'member' check (role in ('host', 'member')),
  "current_time"  double precision not null default 0,
  is_playing      boolean not null default false,
  last_seen       timestamptz(3) not null default now(),
  joined_at       timestamptz(3) not null default now(),
  primary key (room_id, user_id)
);
create index room_members_user_id_idx on public.room_members (user_id);

create table public.comments (
  id                 bigint generated always as identity primary key,
  room_id            text not null references public.rooms (room_id) on delete cascade,
  anime_id           text,
  episode_number     integer,
  user_id            uuid,
  username           text not null,
  message            text not null,
  video_timestamp    double precision,
  is_system_message  boolean not null default false,
  created_at         timestamptz(3) not null default now()
);
create index comments_room_created_idx on public.comments (room_id, created_at desc);
create index comments_rate_idx on public.comments (room_id, user_id, created_at)
  where not is_system_message;

-- Successful sync/control calls of the last seconds, for the per-user rate limit.
create table watchparty_private.control_events (
  room_id  text not null,
  user_id  uuid not null,
  at       timestamptz not null default now()
);
create index control_events_idx on watchparty_private.control_events (room_id, user_id, at);

-- Membership test used by the policies. security definer: it reads room_members without going
-- through room_members' own policy (which would recurse).
create function watchparty_private.is_room_member(p_room_id text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.room_members m
    where m.room_id = p_room_id and m.user_id = auth.uid()
  )
$$;

-- Row-level security: members read their room's rows; nobody writes directly.
alter table public.rooms enable row level security;
alter table public.room_members enable row level security;
alter table public.comments enable row level security;
alter table watchparty_private.control_events enable row level security;

create policy rooms_members_read on public.rooms
  for select to anon, authenticated
  using (watchparty_private.is_room_member(room_id));
create policy room_members_members_read on public.room_members
  for select to anon, authenticated
  using (watchparty_private.is_room_member(room_id));
create policy comments_members_read on public.comments
  for select to anon, authenticated
  using (watchparty_private.is_room_member(room_id));

-- Supabase grants everything in `public` to anon and authenticated by default; keep only SELECT
-- (filtered by the policies above). Realtime's postgres_changes also needs SELECT for its RLS check.
revoke all on public.rooms, public.room_members, public.comments from anon, authenticated;
grant select on public.rooms, public.room_members, public.comments to anon, authenticated;
grant all on public.rooms, public.room_members, public.comments to service_role;

revoke all on schema watchparty_private from public;
grant usage on schema watchparty_private to anon, authenticated, service_role;
revoke all on all tables in schema watchparty_private from public, anon, authenticated;
revoke all on all functions in schema watchparty_private from public;
grant execute on function watchparty_private.is_room_member(text) to anon, authenticated, service_role;

-- Realtime: postgres_changes for the three tables. room_members needs the whole old row in
-- UPDATE and DELETE payloads (a client shows "<username> left" from payload.old); rooms and
-- comments are read from payload.new only.
alter table public.room_members replica identity full;
alter publication supabase_realtime add table public.rooms, public.room_members, public.comments;
