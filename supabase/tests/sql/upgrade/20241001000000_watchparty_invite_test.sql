-- Upgrading a project that ran the lifecycle migration: members keep their rooms (they rejoin
-- without a secret), control_room still answers the host (and now co-hosts), and a room from
-- before has no secret until its host rotates one, so it admits no newcomer until then.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('bob');
  perform public.join_room(v_room, 'bob');
  perform public.leave_room(v_room);
end $$;

\set ON_ERROR_STOP 1
\i :migration

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
  v_secret text;
begin
  perform tests.act_as('alice');
  v := public.control_room(v_room, 'play', 1);
  perform tests.is(v #>> '{room,is_playing}', 'true', 'the host still controls');
  perform tests.act_as('bob');
  v := public.join_room_invited(v_room, 'bob');
  perform tests.ok(v #>> '{member,left_at}' is null, 'a member who left before the upgrade rejoins without a secret');
  perform tests.is(v #>> '{member,cohost}', 'false', 'members are not co-hosts');
  perform tests.act_as('carol');
  perform tests.throws(format('select public.join_room_invited(%L, %L)', v_room, 'carol'), 'PT404', 'ROOM_NOT_FOUND',
    'an old room admits no newcomer before its host rotates a secret');
  perform tests.act_as('alice');
  v_secret := public.rotate_invite(v_room) ->> 'invite_secret';
  perform public.set_cohost(v_room, tests.uid('bob')::text);
  perform tests.act_as('carol');
  v := public.join_room_invited(v_room, 'carol', p_invite_secret => v_secret);
  perform tests.is(v #>> '{member,role}', 'member', 'after a rotation the new link admits');
  perform tests.act_as('bob');
  v := public.control_room(v_room, 'pause', 2);
  perform tests.is(v #>> '{room,is_playing}', 'false', 'a co-host controls');
end $$;
