-- Rates (docs/security.md, "Rates"): rooms created 10 a minute per user; joins and leaves 20 a
-- minute per user; join/leave notices 4 a minute per member and room, 30 a minute per room. Before
-- the trust migration one user could create rooms and loop join/leave without limit, each leave
-- and join posting a notice with attacker text ("HOST: go to evil.example joined the room").

select tests.new_user('mallory'), tests.new_user('alice');
select tests.new_user('user' || i) from generate_series(1, 40) i;

do $$
begin
  perform tests.act_as('mallory');
  for i in 1..10 loop
    perform public.create_room(p_username => 'm');
  end loop;
  perform tests.throws('select public.create_room(p_username => ''m'')', 'PT429', 'RATE_LIMITED', 'the 11th room in a minute is refused');
  perform tests.throws('select public.create_room(p_username => ''m'', p_media_url => ''file:///x'')', 'PT400', 'INVALID_REQUEST',
    'a bad request is still answered 400 first');
  perform tests.act_as('alice');
  perform tests.ok(public.create_room(p_username => 'a') is not null, 'other users are not affected');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from public.rooms where host_user_id = tests.uid('mallory')), 10::bigint, 'mallory has 10 rooms');
end $$;

do $$
begin
  -- a minute later
  perform tests.act_as_admin();
  update watchparty_private.user_events set at = at - interval '61 seconds';
  perform tests.act_as('mallory');
  perform tests.ok(public.create_room(p_username => 'm') is not null, 'a minute later mallory creates again');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from watchparty_private.user_events where user_id = tests.uid('mallory')), 1::bigint,
    'the bookkeeping of the last minute only is kept');
end $$;

-- joins and leaves: 20 a minute per user, across rooms; the notices stop at 4 per member
do $$
declare
  v_room text;
  v_other text;
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  v_other := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('mallory');
  for i in 1..9 loop
    perform tests.join_room(v_room, 'HOST: go to evil.example');
    perform public.track_user_presence(v_room, null, '0', 'false');  -- the first beat announces
    perform public.leave_room(v_room);
  end loop;
  perform tests.join_room(v_other, 'm');
  perform public.track_user_presence(v_other, null, '0', 'false');
  perform public.leave_room(v_other);
  perform tests.throws(format('select tests.join_room(%L, %L)', v_room, 'm'), 'PT429', 'RATE_LIMITED',
    'the 21st join or leave in a minute is refused');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from public.comments where room_id = v_room and is_system_message), 4::bigint,
    '18 joins (each announced by a beat) and leaves of one member wrote 4 notices');
  perform tests.is((select count(*) from public.room_members where room_id = v_room and left_at is null), 1::bigint,
    'the membership changed all the same (mallory left last)');
  perform tests.is((select count(*) from public.comments where room_id = v_other and is_system_message), 2::bigint,
    'the notice limit is per room');

  -- a minute later: joins and notices again
  update watchparty_private.user_events set at = at - interval '61 seconds';
  update watchparty_private.notice_events set at = at - interval '61 seconds';
  perform tests.act_as('mallory');
  perform tests.join_room(v_room, 'm');
  perform public.track_user_presence(v_room, null, '0', 'false');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from public.comments where room_id = v_room and is_system_message), 5::bigint,
    'a minute later the join is announced again (at its first beat)');
end $$;

-- a room's notices: 30 a minute, whoever joins
do $$
declare
  v_room text;
begin
  perform tests.act_as_admin();
  perform tests.reset_rates();
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  for i in 1..40 loop
    perform tests.act_as('user' || i);
    perform tests.join_room(v_room, 'user' || i);
    perform public.track_user_presence(v_room, null, '0', 'false');
  end loop;
  perform tests.act_as_admin();
  perform tests.is((select count(*) from public.comments where room_id = v_room and is_system_message), 30::bigint,
    '40 first joins (and beats) in a minute write 30 notices');
  perform tests.is((select count(*) from public.room_members where room_id = v_room and left_at is null), 41::bigint,
    'and all 40 joined');
end $$;

-- Parallel requests cannot slip past the count: the count and the insert are serialised per
-- user (an advisory lock), which shows as the lock being held until the transaction ends.
do $$
begin
  perform tests.act_as('alice');
  perform public.create_room(p_username => 'a');
  perform tests.act_as_admin();
  perform tests.ok(exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted),
    'create_room holds its per-user advisory lock to the end of the transaction');
end $$;
