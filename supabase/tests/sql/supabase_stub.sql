-- A stand-in for the parts of a hosted Supabase database that our migrations rely on, so the
-- migrations and the room logic can be tested on a throwaway PostgreSQL 15 cluster. Test-only: a
-- real project already has all of this (and much more), and `supabase db push` never sees this file.
--
-- What it mirrors, and why:
--   roles anon/authenticated/service_role  PostgREST switches to these per request (JWT `role`).
--   auth.users                             room_members.user_id references it.
--   auth.sessions                          GoTrue's sessions; a user token's `session_id` claim
--                                          names one, and signing out deletes it (the functions
--                                          refuse tokens whose session is gone).
--   auth.uid(), auth.role(), auth.jwt()    read the request's JWT claims from the GUC that PostgREST
--                                          (and Realtime's RLS check) sets: request.jwt.claims.
--   default privileges                     a new table or function in `public` is granted to anon
--                                          and authenticated, as on hosted Supabase, so our
--                                          migrations must revoke what they do not want exposed.
--   publication supabase_realtime          exists, empty, on every project.
--   realtime.messages, realtime.topic()    Realtime Authorization ("private channels"): Realtime
--                                          checks a channel join by selecting and inserting rows of
--                                          realtime.messages as the user, with the channel's topic
--                                          in the GUC realtime.topic; RLS policies decide.

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;

create schema auth;
grant usage on schema auth to anon, authenticated, service_role;

create table auth.users (
  id uuid primary key,
  aud text not null default 'authenticated',
  role text not null default 'authenticated',
  is_anonymous boolean not null default true,
  raw_user_meta_data jsonb not null default '{}',
  created_at timestamptz not null default now()
);

-- The columns of GoTrue's table that matter here (its migrations add more).
create table auth.sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  not_after timestamptz,
  aal text not null default 'aal1'
);
create index sessions_user_id_idx on auth.sessions (user_id);

-- Same definitions as Supabase's (auth schema migrations of supabase/auth).
create function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public grant execute on functions to anon, authenticated, service_role;

create publication supabase_realtime;

-- Realtime's table (partitioned by inserted_at on a real project; a plain table is enough here),
-- with RLS on and the grants Realtime's own migrations give.
create schema realtime;
grant usage on schema realtime to anon, authenticated, service_role;
create table realtime.messages (
  id uuid not null default gen_random_uuid(),
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp not null default now(),
  inserted_at timestamp not null default now(),
  primary key (id, inserted_at)
);
alter table realtime.messages enable row level security;
grant select, insert, update on realtime.messages to anon, authenticated;
grant all on realtime.messages to service_role;

create function realtime.topic() returns text
language sql stable
as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;
grant execute on function realtime.topic() to anon, authenticated, service_role;
