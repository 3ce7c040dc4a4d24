-- Realtime Authorization of room channels. Realtime decides whether a user may join a private
-- channel by reading and writing realtime.messages as that user with the topic in
-- realtime.topic(): a visible row of an extension = may receive it, an allowed insert = may send
-- it (broadcast) or track (presence). Before the trust migration there were no policies: with
-- public channels anyone could join realtime:room:<id>, read presence, track under another user's
-- key and broadcast.

select tests.new_user('alice'), tests.new_user('bob'), tests.new_user('mallory');

do $$
declare
  v_room text;
begin
  perform tests.act_as('alice');
  v_room := public.create_room(p_username => 'alice') #>> '{room,room_id}';
  perform tests.set('room', v_room);
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  -- Realtime's read check: rows it inserted (as the superuser) for the topic, one per extension.
  perform tests.act_as_admin();
  insert into realtime.messages (topic, extension) values
    ('room:' || v_room, 'broadcast'), ('room:' || v_room, 'presence'),
    ('room:' || v_room || ':cursors', 'broadcast'), ('room:' || v_room || ':cursors', 'presence'),
    ('lobby', 'broadcast'), ('room:' || v_room || 'x', 'broadcast');
end $$;

-- What a user may do on a topic: [receive broadcast, receive presence, send broadcast, track presence].
create function tests.topic_rights(p_name text, p_topic text) returns boolean[]
language plpgsql as $$
declare
  v boolean[];
  v_ext text;
begin
  perform tests.act_on_topic(p_name, p_topic);
  v := array[
    exists (select 1 from realtime.messages where topic = p_topic and extension = 'broadcast'),
    exists (select 1 from realtime.messages where topic = p_topic and extension = 'presence')];
  foreach v_ext in array array['broadcast', 'presence'] loop
    begin
      insert into realtime.messages (topic, extension) values (p_topic, v_ext);
      v := v || true;
    exception when insufficient_privilege then
      v := v || false;
    end;
  end loop;
  perform tests.act_as_admin();
  return v;
end $$;

do $$
declare
  v_room text := tests.get('room');
  v_all constant boolean[] := array[true, true, true, true];
  v_none constant boolean[] := array[false, false, false, false];
begin
  perform tests.is(tests.topic_rights('alice', 'room:' || v_room), v_all, 'the host may receive and send on room:<id>');
  perform tests.is(tests.topic_rights('bob', 'room:' || v_room), v_all, 'a member may receive and send on room:<id>');
  perform tests.is(tests.topic_rights('bob', 'room:' || v_room || ':cursors'), v_all, 'and on room:<id>:…');
  perform tests.is(tests.topic_rights('mallory', 'room:' || v_room), v_none, 'a non-member may do nothing on room:<id>');
  perform tests.is(tests.topic_rights('mallory', 'room:' || v_room || ':cursors'), v_none, 'nor on room:<id>:…');
  perform tests.is(tests.topic_rights(null, 'room:' || v_room), v_none, 'the anon key may do nothing');
  perform tests.is(tests.topic_rights('bob', 'room:' || v_room || 'x'), v_none, 'a topic that only starts like the room''s is not it');
  perform tests.is(tests.topic_rights('bob', 'lobby'), v_none, 'topics of no room are closed');
  perform tests.is(tests.topic_rights('bob', 'ROOM:' || upper(v_room)), v_none, 'topics are exact (no case folding)');

  perform tests.act_as('bob');
  perform public.leave_room(v_room);
  perform tests.is(tests.topic_rights('bob', 'room:' || v_room), v_none, 'after a leave the room channel is closed to the leaver');
  perform tests.act_as('bob');
  perform tests.join_room(v_room, 'bob');
  perform tests.is(tests.topic_rights('bob', 'room:' || v_room), v_all, 'and open again after a rejoin');
  perform tests.end_session('bob');
  perform tests.is(tests.topic_rights('bob', 'room:' || v_room), v_none, 'a signed-out session''s token may do nothing');
end $$;

do $$
begin
  perform tests.is((select array_agg(policyname::text order by policyname) from pg_policies
                    where schemaname = 'realtime' and tablename = 'messages'),
    array['watchparty_room_topics_receive', 'watchparty_room_topics_send'], 'the two policies are on realtime.messages');
end $$;
