-- Waiting for a buffering member: the buffering mark of a beat, the wait action of
-- control_room and its checks, the columns' defaults and bounds.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform public.track_user_presence(v_room, null, '0', 'false');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
  v_bob text := tests.uid('bob')::text;
begin
  perform tests.act_as_admin();
  perform tests.is((select wait_limit from public.rooms where room_id = v_room), 8, 'a new room waits at most 8 s');
  perform tests.is((select waiting_for from public.rooms where room_id = v_room), '[]'::jsonb, 'and waits for nobody');
  perform tests.is((select buffering from public.room_members where user_id = tests.uid('bob')), false, 'a beat without p_buffering is not buffering');

  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '0', 'true', p_buffering => 'true');
  perform tests.act_as_admin();
  perform tests.is((select buffering from public.room_members where user_id = tests.uid('bob')), true, 'p_buffering true is stored');
  perform tests.act_as('bob');
  perform tests.throws(format('select public.track_user_presence(%L, null, %L, %L, p_buffering => %L)', v_room, '0', 'true', '"yes"'),
    'PT400', 'INVALID_REQUEST', 'p_buffering must be a boolean');
  perform public.track_user_presence(v_room, null, '0', 'true');
  perform tests.act_as_admin();
  perform tests.is((select buffering from public.room_members where user_id = tests.uid('bob')), false, 'a beat without it clears it');

  perform tests.act_as('alice');
  perform public.control_room(v_room, 'play', 10);
  v := public.control_room(v_room, 'wait', 12, p_waiting_for => jsonb_build_array(v_bob));
  perform tests.is(v -> 'room' -> 'is_playing', 'false'::jsonb, 'a wait pauses the room');
  perform tests.is(v -> 'room' -> 'current_time', '12'::jsonb, 'at its position');
  perform tests.is(v -> 'room' -> 'waiting_for', jsonb_build_array(v_bob), 'waiting for bob');
  v := public.control_room(v_room, 'sync', 12);
  perform tests.is(v -> 'room' -> 'waiting_for', jsonb_build_array(v_bob), 'a sync keeps the wait');
  v := public.control_room(v_room, 'play', 12);
  perform tests.is(v -> 'room' -> 'waiting_for', '[]'::jsonb, 'play ends it');
  perform tests.is(v -> 'room' -> 'is_playing', 'true'::jsonb, 'and plays');

  perform tests.throws(format('select public.control_room(%L, %L, 1)', v_room, 'wait'), 'PT400', 'INVALID_REQUEST', 'a wait without waiting_for');
  perform tests.throws(format('select public.control_room(%L, %L, 1, p_waiting_for => %L)', v_room, 'wait', '[]'),
    'PT400', 'INVALID_REQUEST', 'a wait for nobody');
  perform tests.throws(format('select public.control_room(%L, %L, 1, p_waiting_for => %L)', v_room, 'wait', jsonb_build_array(v_bob, v_bob)),
    'PT400', 'INVALID_REQUEST', 'a wait naming bob twice');
  perform tests.throws(format('select public.control_room(%L, %L, 1, p_waiting_for => %L)', v_room, 'wait', jsonb_build_array(tests.uid('carol'))),
    'PT400', 'INVALID_REQUEST', 'a wait for someone who is not a member');
  perform tests.throws(format('select public.control_room(%L, %L, 1, p_waiting_for => %L)', v_room, 'wait',
    (select jsonb_agg('u' || i) from generate_series(1, 17) i)), 'PT400', 'INVALID_REQUEST', 'a wait for 17');
  perform tests.act_as('bob');
  perform tests.throws(format('select public.control_room(%L, %L, 1, p_waiting_for => %L)', v_room, 'wait', jsonb_build_array(v_bob)),
    'PT403', 'NOT_HOST', 'a wait by a member who is not the host');

  perform tests.act_as_admin();
  perform tests.throws(format('update public.rooms set wait_limit = 61 where room_id = %L', v_room), '23514', null, 'wait_limit at most 60 s');
  perform tests.throws(format('update public.rooms set wait_limit = -1 where room_id = %L', v_room), '23514', null, 'and not negative');
end $$;
