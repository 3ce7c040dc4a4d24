-- Sessions: signing out deletes the session row (GoTrue); the user's access tokens still verify
-- until they expire. Before the trust migration such a token kept working for every function,
-- RPC, table read and realtime channel for up to an hour. Now the functions answer 401
-- UNAUTHORIZED and the row policies see no membership.

select tests.new_user('alice'), tests.new_user('bob');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform tests.end_session('bob');
end $$;

do $$
declare
  v_room text := tests.get('room');
  v_call text;
begin
  perform tests.act_as('bob');
  foreach v_call in array array[
    'select public.create_room(p_username => ''bob'')',
    format('select tests.join_room(%L, %L)', v_room, 'bob'),
    format('select public.leave_room(%L)', v_room),
    format('select public.control_room(%L, %L, 1)', v_room, 'play'),
    format('select public.create_comment(%L, %L)', v_room, 'hi'),
    format('select public.track_user_presence(%L, null, %L, %L)', v_room, '1', 'true'),
    format('select public.get_room_sync_state(%L)', v_room)
  ] loop
    perform tests.throws(v_call, 'PT401', 'UNAUTHORIZED', format('after sign-out: %s', split_part(v_call, '(', 1)));
  end loop;
  perform tests.is((select count(*) from public.rooms), 0::bigint, 'after sign-out no room rows');
  perform tests.is((select count(*) from public.room_members), 0::bigint, 'after sign-out no member rows');
  perform tests.is((select count(*) from public.comments), 0::bigint, 'after sign-out no comments');

  perform tests.act_as('alice');
  perform tests.ok(public.get_room_sync_state(v_room) ? 'room', 'other users'' sessions go on');
end $$;

do $$
declare
  v_room text := tests.get('room');
begin
  perform tests.new_session('bob');
  perform tests.act_as('bob');
  perform tests.ok(public.get_room_sync_state(v_room) ? 'room', 'signing in again (a new session) works');

  -- tokens that name no live session of their user
  perform tests.act_with_claims(jsonb_build_object('sub', tests.uid('bob'), 'role', 'authenticated'));
  perform tests.throws(format('select public.get_room_sync_state(%L)', v_room), 'PT401', 'UNAUTHORIZED', 'a token without session_id');
  perform tests.act_with_claims(jsonb_build_object('sub', tests.uid('bob'), 'role', 'authenticated', 'session_id', 'not-a-uuid'));
  perform tests.throws(format('select public.get_room_sync_state(%L)', v_room), 'PT401', 'UNAUTHORIZED', 'a session_id that is no uuid');
  perform tests.act_with_claims(jsonb_build_object('sub', tests.uid('bob'), 'role', 'authenticated',
    'session_id', (select session_id from tests.users where name = 'alice')));
  perform tests.throws(format('select public.get_room_sync_state(%L)', v_room), 'PT401', 'UNAUTHORIZED', 'another user''s session');
  perform tests.act_with_claims(jsonb_build_object('sub', tests.uid('bob'), 'role', 'authenticated', 'session_id', gen_random_uuid()));
  perform tests.is((select count(*) from public.comments), 0::bigint, 'a made-up session reads nothing');

  perform tests.act_as_admin();
  update auth.sessions set not_after = now() - interval '1 second' where user_id = tests.uid('bob');
  perform tests.act_as('bob');
  perform tests.throws(format('select public.get_room_sync_state(%L)', v_room), 'PT401', 'UNAUTHORIZED',
    'a session past its not_after (time-boxed sessions)');
end $$;
