-- Invite secrets and moderation: the membership gate holds for every way into a room, the secret
-- is stored only as a hash, and direct calls can't get around rooms/join.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol'), tests.new_user('mallory');

do $$
declare
  v jsonb;
  v_room text;
  v_secret text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  v := public.rotate_invite(v_room);
  v_secret := v ->> 'invite_secret';
  perform tests.set('secret', v_secret);
  perform tests.ok(v_secret ~ '^[A-Za-z0-9_-]{24}$', 'a secret is 24 characters of base64url (144 bits)');
  perform tests.ok(public.rotate_invite(v_room) ->> 'invite_secret' <> v_secret, 'each rotation draws a new secret');
  v_secret := public.rotate_invite(v_room) ->> 'invite_secret';
  perform tests.set('secret', v_secret);

  perform tests.act_as_admin();
  perform tests.is((select secret_hash from watchparty_private.room_invites where room_id = v_room), sha256(convert_to(v_secret, 'UTF8')),
    'only the SHA-256 of the secret is stored');
  perform tests.ok(not exists (select 1 from watchparty_private.room_invites where encode(secret_hash, 'escape') like '%' || v_secret || '%'),
    'the secret itself is nowhere in the table');

  perform tests.act_as('mallory');
  perform tests.throws(format('select public.join_room(%L, %L)', v_room, 'mallory'), 'PT404', 'ROOM_NOT_FOUND',
    'a direct call of join_room, without the secret, is answered as for an unknown room');
  perform tests.throws(format('select public.join_room_invited(%L, %L, p_invite_secret => %L)', v_room, 'mallory', 'nope'),
    'PT404', 'ROOM_NOT_FOUND', 'a wrong secret reads as an unknown room');
  perform set_config('watchparty.invite_secret', 'nope', true);
  perform tests.throws(format('select public.join_room(%L, %L)', v_room, 'mallory'), 'PT404', 'ROOM_NOT_FOUND',
    'a setting that holds a wrong secret admits nobody (the gate checks the hash itself)');
  perform set_config('watchparty.invite_secret', '', true);
  perform tests.throws(format('select public.rotate_invite(%L)', v_room), 'PT403', 'NOT_MEMBER', 'an outsider can''t rotate');
  perform tests.throws(format('select public.kick_member(%L, %L)', v_room, tests.uid('alice')), 'PT403', 'NOT_MEMBER', 'an outsider can''t kick');

  perform tests.act_as('bob');
  v := public.join_room_invited(v_room, 'bob', p_invite_secret => v_secret);
  perform tests.is(v #>> '{member,role}', 'member', 'the secret admits');
  perform tests.is(v #>> '{member,cohost}', 'false', 'not a co-host');
  perform tests.is(current_setting('watchparty.invite_secret', true), '', 'the setting is cleared after the join');
  perform tests.throws(format('select public.set_cohost(%L, %L)', v_room, tests.uid('bob')), 'PT403', 'NOT_HOST', 'a member can''t make themselves co-host');

  perform tests.act_as_admin();
  perform tests.throws(format('insert into public.room_members (room_id, user_id, username) values (%L, %L, %L)',
    v_room, tests.uid('carol'), 'carol'), 'PT404', 'ROOM_NOT_FOUND', 'even a direct insert must bring the secret');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
  v_secret text := tests.get('secret');
begin
  perform tests.act_as('alice');
  perform public.set_cohost(v_room, tests.uid('bob')::text);
  perform public.kick_member(v_room, tests.uid('bob')::text);
  perform tests.act_as_admin();
  perform tests.ok((select left_at is not null and not cohost and role = 'member' from public.room_members
                    where room_id = v_room and user_id = tests.uid('bob')), 'kicked: left, no longer a co-host');
  perform tests.is((select count(*) from watchparty_private.room_clients where room_id = v_room and user_id = tests.uid('bob')), 0::bigint,
    'all of the kicked member''s clients are gone');
  perform tests.act_as('bob');
  perform tests.throws(format('select public.join_room(%L, %L)', v_room, 'bob'), 'PT403', 'REMOVED',
    'a removed member''s direct rejoin without the secret is refused');
  v := public.join_room_invited(v_room, 'bob', p_invite_secret => v_secret);
  perform tests.ok(v #>> '{member,left_at}' is null, 'the secret brings a removed member back');

  perform tests.act_as('alice');
  perform public.ban_member(v_room, tests.uid('bob')::text);
  perform tests.act_as('bob');
  perform tests.throws(format('select public.join_room_invited(%L, %L, p_invite_secret => %L)', v_room, 'bob', v_secret),
    'PT403', 'BANNED', 'a banned member is refused even with the secret');
  perform tests.throws(format('select public.join_room(%L, %L)', v_room, 'bob'), 'PT403', 'BANNED', 'directly too');
  perform tests.act_as_admin();
  perform tests.is((select array_agg(message order by id) from public.comments where room_id = v_room and is_system_message),
    array['alice made bob a co-host', 'alice removed bob', 'alice banned bob'], 'system comments say what happened');
end $$;
