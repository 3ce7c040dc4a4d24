-- Idle rooms expire: watchparty_private.expire_idle_rooms() deletes rooms (with their members
-- and comments) that had no control and no member seen for 7 days. Before the trust migration
-- rooms were kept forever, so one user could fill the database.

select tests.new_user('alice'), tests.new_user('bob');

do $$
declare
  v_idle text;
  v_seen text;
  v_controlled text;
  v_fresh text;
begin
  perform tests.act_as('alice');
  v_idle := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  v_seen := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  v_controlled := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  v_fresh := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform public.create_comment(v_idle, 'old words');
  perform tests.act_as('bob');
  perform tests.join_room(v_idle, 'bob');
  perform tests.join_room(v_seen, 'bob');

  perform tests.act_as_admin();
  update public.rooms set updated_at = now() - interval '8 days' where room_id in (v_idle, v_seen, v_controlled);
  update public.room_members set last_seen = now() - interval '8 days' where room_id in (v_idle, v_controlled);
  update public.room_members set last_seen = now() - interval '8 days'
    where room_id = v_seen and user_id = tests.uid('alice');
  update public.room_members set last_seen = now() - interval '6 days'
    where room_id = v_seen and user_id = tests.uid('bob');
  update public.rooms set updated_at = now() - interval '6 days' where room_id = v_controlled;
  update public.room_members set last_seen = now() - interval '8 days' where room_id = v_fresh;
  insert into watchparty_private.user_events (user_id, kind, at) values (tests.uid('bob'), 'create_room', now() - interval '2 minutes');

  perform tests.is(watchparty_private.expire_idle_rooms(), 1, 'one room is idle');
  perform tests.is((select count(*) from public.rooms where room_id = v_idle), 0::bigint, 'the idle room is gone');
  perform tests.is((select count(*) from public.room_members where room_id = v_idle), 0::bigint, 'with its members');
  perform tests.is((select count(*) from public.comments where room_id = v_idle), 0::bigint, 'and its comments');
  perform tests.is((select count(*) from public.rooms where room_id in (v_seen, v_controlled, v_fresh)), 3::bigint,
    'a room with a member seen, or a control, within 7 days stays');
  perform tests.is((select count(*) from watchparty_private.user_events where user_id = tests.uid('bob') and kind = 'create_room'), 0::bigint,
    'old rate bookkeeping is pruned too');
  perform tests.is(watchparty_private.expire_idle_rooms(), 0, 'running it again deletes nothing');
end $$;

do $$
begin
  perform tests.act_as('alice');
  perform tests.throws('select watchparty_private.expire_idle_rooms()', '42501', null, 'users cannot call it');
end $$;
