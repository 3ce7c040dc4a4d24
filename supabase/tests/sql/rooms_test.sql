-- rooms: create and join (first join, idempotent rejoin, the creator's own join), usernames, the
-- caller rules.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('carol');

do $$
declare
  v jsonb;
  v_room text;
begin
  perform tests.act_as('alice');
  v := public.create_room(p_username => 'alice', p_media_url => 'https://example.com/movie.mkv',
    p_media_title => 'Movie', p_media_duration => 5400, p_anime_id => 'anime123', p_episode_number => 3);
  v_room := v #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.ok(v_room ~ '^[a-z0-9]{10}$', 'room id is 10 characters of [a-z0-9]');
  perform tests.is(v #>> '{room,host_user_id}', tests.uid('alice')::text, 'the creator is host_user_id');
  perform tests.is(v #>> '{member,role}', 'host', 'the creator''s member row has role host');
  perform tests.is(v -> 'room' -> 'is_playing', 'false'::jsonb, 'a new room is paused');
  perform tests.is(v -> 'room' -> 'current_time', '0'::jsonb, 'a new room is at 0');
  perform tests.is(v -> 'room' -> 'playback_rate', '1'::jsonb, 'a new room plays at rate 1');
  perform tests.is(v -> 'room' -> 'state_version', '0'::jsonb, 'a new room has state_version 0');
  perform tests.is(v -> 'room' -> 'media_duration', '5400'::jsonb, 'media_duration is kept');
  perform tests.is(v -> 'room' -> 'episode_number', '3'::jsonb, 'episode_number is kept');
  perform tests.ok(v #>> '{room,updated_at}' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$',
    'timestamps have three fraction digits and +00:00');
  perform tests.is((select count(*) from public.comments where room_id = v_room), 0::bigint,
    'creating a room adds no comment');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('alice');
  v := tests.join_room(v_room, 'alice');
  perform tests.is(v #>> '{member,role}', 'host', 'the creator joining its own room stays host');
  perform tests.is(jsonb_array_length(v -> 'members'), 1, 'the creator''s join adds no second member');
  perform tests.is((select count(*) from public.comments where room_id = v_room), 0::bigint,
    'the creator''s join adds no notice');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('bob');
  v := tests.join_room(v_room, 'bob');
  perform tests.is(v #>> '{member,role}', 'member', 'a joiner is a member');
  perform tests.is(v #>> '{member,user_id}', tests.uid('bob')::text, 'the member row is the caller''s');
  perform tests.is(jsonb_array_length(v -> 'members'), 2, 'members lists both');
  perform tests.is(v #>> '{members,0,username}', 'alice', 'members are in join order');
  perform tests.is(v #>> '{room,room_id}', v_room, 'join returns the room');

  v := tests.join_room(v_room, '  bobby ');
  perform tests.is(v #>> '{member,role}', 'member', 'joining again keeps the role');
  perform tests.is(v #>> '{member,username}', 'bobby', 'joining again takes the new (trimmed) name');
  perform tests.is(jsonb_array_length(v -> 'members'), 2, 'joining again adds no member');

  perform tests.act_as_admin();
  perform tests.is((select count(*) from public.comments where room_id = v_room), 0::bigint,
    'a join adds no notice (it comes with the first beat)');
  perform tests.act_as('bob');
  perform public.track_user_presence(v_room, null, '0', 'false');
  perform public.track_user_presence(v_room, null, '0', 'false');
  perform tests.act_as_admin();
  perform tests.is((select count(*) from public.comments where room_id = v_room), 1::bigint,
    'the first beat adds one notice, the second none');
  perform tests.is((select message from public.comments where room_id = v_room), 'bobby joined the room',
    'the notice says who joined, by their name at the beat');
  perform tests.ok((select is_system_message and user_id is null and username = 'system' and anime_id = 'anime123'
                    from public.comments where room_id = v_room),
    'the notice is a system message from "system", with the room''s anime');
end $$;

do $$
declare
  v jsonb;
  v_room text := tests.get('room');
begin
  perform tests.act_as('carol');
  perform tests.throws('select tests.join_room(''zzzzzzzzzz'', ''carol'')', 'PT404', 'ROOM_NOT_FOUND',
    'joining an unknown room');
  perform tests.throws(format('select tests.join_room(%L, %L)', v_room, E' \t '), 'PT400', 'INVALID_USERNAME',
    'a blank username');
  perform tests.throws(format('select tests.join_room(%L, %L)', v_room, repeat('x', 33)), 'PT400', 'INVALID_USERNAME',
    'a 33-character username');
  perform tests.throws(format('select tests.join_room(%L, %L)', v_room, E'\u0007\u009b'), 'PT400', 'INVALID_USERNAME',
    'a username of control characters only');
  perform tests.throws(format('select tests.join_room(%L)', v_room), 'PT400', 'INVALID_REQUEST',
    'a join without username');
  perform tests.throws('select public.create_room()', 'PT400', 'INVALID_REQUEST', 'a create without username');
  perform tests.is(public.create_room(p_username => 'c', p_media_title => E'\u001b[2JTi\ttle ') #>> '{room,media_title}', 'Ti tle',
    'media titles are cleaned like names');
  perform tests.throws('select public.create_room(p_username => ''c'', p_media_duration => -1)', 'PT400',
    'INVALID_REQUEST', 'a negative media_duration');
  perform tests.throws(format('select tests.join_room(%L, %L, %L)', v_room, 'carol', tests.uid('alice')),
    'PT403', 'USER_MISMATCH', 'a user_id that is not the caller');

  v := tests.join_room(v_room, E' \u0007car\u0001ol\u009b ', tests.uid('carol')::text);
  perform tests.is(v #>> '{member,username}', 'carol', 'control characters are stripped, then the name trimmed');
  v := tests.join_room(v_room, E'ca\trol\n');
  perform tests.is(v #>> '{member,username}', 'ca rol', 'tabs and newlines in a name become spaces');
  v := tests.join_room(v_room, E'\u001b[1;31mca\u001b]0;title\u0007rol\u001b(B');
  perform tests.is(v #>> '{member,username}', 'carol', 'terminal escape sequences are removed');
  v := tests.join_room(v_room, E'\u202ecar\u2066ol\ue000\U000F0001');
  perform tests.is(v #>> '{member,username}', 'carol', 'bidi controls and private-use characters are removed');
  v := tests.join_room(v_room, repeat('é', 32));
  perform tests.is(v #>> '{member,username}', repeat('é', 32), 'usernames count characters, not bytes');

  perform tests.act_as_anon();
  perform tests.throws(format('select tests.join_room(%L, %L)', v_room, 'anon'), 'PT401', 'UNAUTHORIZED',
    'the anon key cannot join');
  perform tests.throws('select public.create_room(p_username => ''anon'')', 'PT401', 'UNAUTHORIZED',
    'the anon key cannot create');
end $$;

-- (The generator itself: create_room allows 10 rooms a minute per user.)
do $$
declare
  v_ids text[];
begin
  perform tests.act_as_admin();
  select array_agg(watchparty_private.new_room_id()) into v_ids
  from generate_series(1, 200);
  perform tests.is((select count(distinct i) from unnest(v_ids) i), 200::bigint, '200 rooms get 200 ids');
  perform tests.ok((select bool_and(i ~ '^[a-z0-9]{10}$') from unnest(v_ids) i), 'every id is well formed');
  perform tests.ok((select count(distinct substr(i, 1, 1)) from unnest(v_ids) i) > 20,
    'first characters spread over the alphabet');
end $$;
