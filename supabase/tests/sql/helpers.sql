-- Assertion helpers for the SQL tests (plain PL/pgSQL, no pgTAP). Loaded into each test's fresh
-- database before the test file. A failed assertion raises, which stops psql (ON_ERROR_STOP) and
-- fails the test; a passed one prints a NOTICE "ok - …".
--
-- Acting as a user works as PostgREST does it: inside the current transaction, set the JWT claims
-- GUC and switch to the `authenticated` (or `anon`) role. Each DO block is one transaction and
-- starts as the superuser again.

set client_min_messages = notice;

create schema tests;
grant usage on schema tests to anon, authenticated;

create table tests.users (name text primary key, id uuid not null unique, session_id uuid not null);
create table tests.vars (name text primary key, value text);
grant select on tests.users, tests.vars to anon, authenticated;
grant insert, update on tests.vars to anon, authenticated;

-- A user in the stub auth.users, signed in (one row in auth.sessions); returns its id.
create function tests.new_user(p_name text) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_id uuid := gen_random_uuid();
  v_session uuid := gen_random_uuid();
begin
  insert into auth.users (id) values (v_id);
  insert into auth.sessions (id, user_id) values (v_session, v_id);
  insert into tests.users (name, id, session_id) values (p_name, v_id, v_session);
  return v_id;
end $$;

-- Signs the user out: its session row goes, as GoTrue's logout does (its tokens still verify).
create function tests.end_session(p_name text) returns void
language sql security definer set search_path = '' as $$
  delete from auth.sessions where id = (select session_id from tests.users where name = p_name)
$$;

-- Signs the user in again: a new session, which act_as uses from now on.
create function tests.new_session(p_name text) returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_session uuid := gen_random_uuid();
begin
  insert into auth.sessions (id, user_id) values (v_session, tests.uid(p_name));
  update tests.users set session_id = v_session where name = p_name;
end $$;

create function tests.uid(p_name text) returns uuid
language sql stable as $$ select id from tests.users where name = p_name $$;

create function tests.set(p_name text, p_value text) returns void
language sql as $$
  insert into tests.vars (name, value) values (p_name, p_value)
  on conflict (name) do update set value = excluded.value
$$;

create function tests.get(p_name text) returns text
language sql stable as $$ select value from tests.vars where name = p_name $$;

-- Act as a signed-in user for the rest of the transaction (claims as GoTrue mints them: sub,
-- role and session_id).
create function tests.act_as(p_name text) returns void
language plpgsql as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims',
    (select jsonb_build_object('sub', u.id, 'role', 'authenticated', 'session_id', u.session_id, 'is_anonymous', true)
     from tests.users u where u.name = p_name)::text, true);
  perform set_config('realtime.topic', '', true);
  perform set_config('role', 'authenticated', true);
end $$;

-- Act as a user with arbitrary claims (forged or odd tokens that PostgREST would still accept).
create function tests.act_with_claims(p_claims jsonb) returns void
language plpgsql as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims', p_claims::text, true);
  perform set_config('role', coalesce(p_claims ->> 'role', 'anon'), true);
end $$;

-- Act as Realtime does when it authorises a channel join: the user's role and claims, and the
-- channel's topic in realtime.topic.
create function tests.act_on_topic(p_name text, p_topic text) returns void
language plpgsql as $$
begin
  if p_name is null then
    perform tests.act_as_anon();
  else
    perform tests.act_as(p_name);
  end if;
  perform set_config('role', 'postgres', true);
  perform set_config('realtime.topic', p_topic, true);
  perform set_config('role', case when p_name is null then 'anon' else 'authenticated' end, true);
end $$;

-- Act as a request that carries only the anon key.
create function tests.act_as_anon() returns void
language plpgsql as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims', '{"role":"anon"}', true);
  perform set_config('role', 'anon', true);
end $$;

-- Back to the superuser (to arrange data or look behind RLS).
create function tests.act_as_admin() returns void
language plpgsql as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims', '', true);
end $$;

create function tests.ok(p_condition boolean, p_what text) returns void
language plpgsql as $$
begin
  if p_condition is not true then
    raise exception 'not ok - %', p_what;
  end if;
  raise notice 'ok - %', p_what;
end $$;

create function tests.is(p_got anyelement, p_want anyelement, p_what text) returns void
language plpgsql as $$
begin
  if p_got is distinct from p_want then
    raise exception 'not ok - %: got %, want %', p_what, p_got, p_want;
  end if;
  raise notice 'ok - %', p_what;
end $$;

-- Runs p_sql and expects it to fail with SQLSTATE p_state and, when given, DETAIL p_detail (the
-- contract's error code).
create function tests.throws(p_sql text, p_state text, p_detail text, p_what text) returns void
language plpgsql as $$
declare
  v_state text;
  v_detail text;
  v_message text;
begin
  begin
    execute p_sql;
  exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_detail = pg_exception_detail,
      v_message = message_text;
    if v_state is distinct from p_state or (p_detail is not null and v_detail is distinct from p_detail) then
      raise exception 'not ok - %: got % % (%), want % %', p_what, v_state, v_detail, v_message, p_state, p_detail;
    end if;
    raise notice 'ok - %', p_what;
    return;
  end;
  raise exception 'not ok - %: no error, want % %', p_what, p_state, p_detail;
end $$;



-- Like tests.throws, and the error's message must be p_message exactly (the spec gives the text).
create function tests.throws_message(p_sql text, p_state text, p_detail text, p_message text, p_what text) returns void
language plpgsql as $$
declare
  v_state text;
  v_detail text;
  v_message text;
begin
  begin
    execute p_sql;
  exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_detail = pg_exception_detail, v_message = message_text;
    if v_state is distinct from p_state or v_detail is distinct from p_detail or v_message is distinct from p_message then
      raise exception 'not ok - %: got % % (%), want % % (%)', p_what, v_state, v_detail, v_message, p_state, p_detail, p_message;
    end if;
    raise notice 'ok - %', p_what;
    return;
  end;
  raise exception 'not ok - %: no error, want % %', p_what, p_state, p_detail;
end $$;

-- Forgets every rate count (as if a minute had passed for everyone), so a test can make more
-- calls than the per-minute limits allow. Run as the superuser (tests.act_as_admin()).
create function tests.reset_rates() returns void
language sql as $$
  delete from watchparty_private.user_events;
  delete from watchparty_private.notice_events;
  delete from watchparty_private.control_events;
$$;
-- rooms/join's way in for a test user: join_room with the room's invite secret, as
-- join_room_invited hands it to the membership gate. The room's secret is set to a known one for
-- the call and put back after (the invite rules themselves: invite_test.sql and the contract
-- cases). Before the invite migration there is no secret to handle.
create function tests.join_room(p_room_id text default null, p_username text default null,
                                p_user_id text default null, p_client_id text default null)
returns jsonb
language plpgsql
security definer as $$
declare
  v_hash bytea;
  v_result jsonb;
  v_invites boolean := to_regclass('watchparty_private.room_invites') is not null;
begin
  if v_invites then
    execute 'select secret_hash from watchparty_private.room_invites where room_id = $1' into v_hash using p_room_id;
    execute 'insert into watchparty_private.room_invites (room_id, secret_hash) select $1, sha256(''tests'')
      where exists (select 1 from public.rooms where room_id = $1)
      on conflict (room_id) do update set secret_hash = excluded.secret_hash' using p_room_id;
    perform set_config('watchparty.invite_secret', 'tests', true);
  end if;
  begin
    v_result := public.join_room(p_room_id => p_room_id, p_username => p_username, p_user_id => p_user_id,
                                 p_client_id => p_client_id);
  exception when others then
    if v_invites then
      execute 'update watchparty_private.room_invites set secret_hash = $2 where room_id = $1 and $2 is not null' using p_room_id, v_hash;
      perform set_config('watchparty.invite_secret', '', true);
    end if;
    raise;
  end;
  if v_invites then
    execute 'delete from watchparty_private.room_invites where room_id = $1 and $2 is null' using p_room_id, v_hash;
    execute 'update watchparty_private.room_invites set secret_hash = $2 where room_id = $1 and $2 is not null' using p_room_id, v_hash;
    perform set_config('watchparty.invite_secret', '', true);
  end if;
  return v_result;
end $$;

grant execute on all functions in schema tests to anon, authenticated;
