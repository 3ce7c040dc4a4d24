// A watch party the way the browser client (docs/design.md §1) runs one, with the real supabase-js:
// alice hosts, bob joins, both subscribe its channel, and each step is checked on the
// other side of the wire.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Recorder,
  closeAll,
  invoke,
  invokeOK,
  presenceMeta,
  roomChannel,
  signIn,
  subscribe,
  syncState,
} from './lib.mjs';

describe('a room driven by supabase-js', () => {
  let alice, bob, roomId;
  let aRec, bRec, aCh, bCh;

  before(async () => {
    [alice, bob] = await Promise.all([signIn(), signIn()]);
    assert.notEqual(alice.user.id, bob.user.id);

    const created = await invokeOK(alice.sb, 'rooms/create', {
      username: 'alice',
      media_url: 'https://example.com/ep1.mkv',
      media_title: 'Episode 1',
      media_duration: 1440,
    });
    roomId = created.room.room_id;
    assert.match(roomId, /^[a-z0-9]{10}$/);
    assert.equal(created.room.host_user_id, alice.user.id);
    assert.equal(created.member.role, 'host');

    // The browser client sends user_id in the body; it must equal the caller, and bob's is bob's.
    // bob has the invite link's secret (the link's part after #s=), as a friend would; without it the
    // room is as unknown as one that does not exist.
    const noSecret = await bob.sb.functions.invoke('rooms/join', { body: { room_id: roomId, username: 'bob' } });
    assert.equal(noSecret.error?.context?.status, 404);
    assert.match(created.invite_secret, /^[A-Za-z0-9_-]{24}$/);
    const joined = await invokeOK(bob.sb, 'rooms/join', {
      room_id: roomId,
      user_id: bob.user.id,
      username: 'bob',
      invite_secret: created.invite_secret,
    });
    assert.equal(joined.member.user_id, bob.user.id);
    assert.equal(joined.member.role, 'member');
    assert.deepEqual(joined.members.map((m) => m.username).sort(), ['alice', 'bob']);
    assert.match(joined.client_id, /^[A-Za-z0-9_-]{8,64}$/);
    assert.equal(joined.member.announced, false);
    // The first liveness beat announces bob ("bob joined the room"), as the browser client's
    // first track_user_presence call does.
    const beat = await bob.sb.rpc('track_user_presence', { p_room_id: roomId, p_user_id: bob.user.id, p_current_time: 0, p_is_playing: false });
    assert.equal(beat.error, null, beat.error?.message);
  });

  after(closeAll);

  it('subscribes the browser client\'s channel and each sees the other in presenceState()', async () => {
    aRec = new Recorder('alice');
    bRec = new Recorder('bob');
    aCh = roomChannel(alice.sb, roomId, alice.user.id, aRec);
    bCh = roomChannel(bob.sb, roomId, bob.user.id, bRec);
    await Promise.all([subscribe(aCh, aRec), subscribe(bCh, bRec)]);
    for (const rec of [aRec, bRec]) {
      const sys = await rec.waitFor('system', (p) => p.extension === 'postgres_changes');
      assert.equal(sys.status, 'ok', sys.message);
    }

    assert.equal(await aCh.track(presenceMeta(alice.user, 'alice', 0, false)), 'ok');
    assert.equal(await bCh.track(presenceMeta(bob.user, 'bob', 0, false)), 'ok');

    await aRec.until(() => aCh.presenceState()[bob.user.id]?.length === 1, "bob in alice's presenceState()");
    await bRec.until(() => bCh.presenceState()[alice.user.id]?.length === 1, "alice in bob's presenceState()");
    const bobSeen = aCh.presenceState()[bob.user.id][0];
    assert.equal(bobSeen.user_id, bob.user.id);
    assert.equal(bobSeen.username, 'bob');
    assert.equal(typeof bobSeen.presence_ref, 'string');
    assert.equal(bCh.presenceState()[alice.user.id][0].username, 'alice');
    const join = await aRec.waitFor('join', (p) => p.key === bob.user.id);
    assert.equal(join.newPresences[0].username, 'bob');
  });

  it('a host pause reaches both as a rooms UPDATE with is_playing and current_time', async () => {
    let since = bRec.mark();
    const played = await invokeOK(alice.sb, 'sync/control', { room_id: roomId, action: 'play', current_time: 10 });
    assert.equal(played.room.is_playing, true);
    await bRec.waitFor('rooms', (p) => p.new.is_playing === true, { since, what: 'rooms UPDATE (play)' });

    since = [aRec.mark(), bRec.mark()];
    const paused = await invokeOK(alice.sb, 'sync/control', { room_id: roomId, action: 'pause', current_time: 42.5 });
    assert.equal(paused.room.state_version, played.room.state_version + 1);
    for (const [i, rec] of [aRec, bRec].entries()) {
      const ev = await rec.waitFor('rooms', (p) => p.new.is_playing === false, { since: since[i], what: 'rooms UPDATE (pause)' });
      assert.equal(ev.schema, 'public');
      assert.equal(ev.table, 'rooms');
      assert.equal(ev.eventType, 'UPDATE');
      assert.equal(typeof ev.commit_timestamp, 'string');
      assert.equal(ev.new.room_id, roomId);
      assert.equal(ev.new.host_user_id, alice.user.id);
      assert.equal(ev.new.current_time, 42.5);
      assert.equal(ev.new.state_version, paused.room.state_version);
    }
  });

  it('a comment reaches the other as a comments INSERT and in the table read', async () => {
    const since = aRec.mark();
    const message = 'hello from bob, héhé 🎬';
    const made = await invokeOK(bob.sb, 'comments/create', { room_id: roomId, message, video_timestamp: 42.5 });
    const ev = await aRec.waitFor('comments', (p) => p.new.message === message, { since, what: 'comments INSERT' });
    assert.equal(ev.eventType, 'INSERT');
    assert.equal(ev.table, 'comments');
    assert.equal(ev.new.id, made.comment.id);
    assert.equal(ev.new.user_id, bob.user.id);
    assert.equal(ev.new.username, 'bob');
    assert.equal(ev.new.video_timestamp, 42.5);
    assert.equal(ev.new.is_system_message, false);

    const { data, error, status } = await alice.sb
      .from('comments')
      .select('*')
      .eq('room_id', roomId)
      .order('created_at', { ascending: false })
      .limit(50);
    assert.equal(error, null, error?.message);
    assert.equal(status, 200);
    assert.equal(data[0].message, message);
    assert.ok(
      data.some((c) => c.is_system_message && c.message === 'bob joined the room'),
      `no join notice in ${JSON.stringify(data)}`,
    );
    for (let i = 1; i < data.length; i++) {
      assert.ok(data[i - 1].created_at >= data[i].created_at, 'comments are not newest first');
    }
  });

  it('track_user_presence gives a room_members UPDATE', async () => {
    const since = aRec.mark();
    const res = await bob.sb.rpc('track_user_presence', {
      p_room_id: roomId,
      p_user_id: bob.user.id,
      p_current_time: 41.25,
      p_is_playing: false,
    });
    assert.equal(res.error, null, res.error?.message);
    assert.equal(res.status, 204);
    const ev = await aRec.waitFor(
      'room_members',
      (p) => p.eventType === 'UPDATE' && p.new.user_id === bob.user.id && p.new.current_time === 41.25,
      { since, what: "room_members UPDATE for bob's position" },
    );
    assert.equal(ev.new.is_playing, false);
    assert.equal(ev.new.room_id, roomId);
    assert.equal(typeof ev.new.last_seen, 'string');
  });

  it('get_room_sync_state returns the room, the members and the server time', async () => {
    const state = await syncState(alice.sb, roomId, alice.user.id);
    assert.equal(state.room.room_id, roomId);
    assert.equal(state.room.current_time, 42.5);
    assert.equal(state.room.is_playing, false);
    assert.equal(state.members.length, 2);
    assert.equal(state.members.find((m) => m.user_id === bob.user.id)?.current_time, 41.25);
    assert.equal(typeof state.server_time, 'number');
    assert.ok(Math.abs(state.server_time - Date.now()) < 60_000, `server_time ${state.server_time} is far from now`);
  });

  it('the ready check: the held play (409 NOT_READY), the ready row and the start reach both as postgres_changes', async () => {
    // bob beat recently (he is live); the room is paused at 42.5 after the pause above.
    const beat = await bob.sb.rpc('track_user_presence', { p_room_id: roomId, p_current_time: 42.5, p_is_playing: false });
    assert.equal(beat.error, null, beat.error?.message);
    let since = bRec.mark();
    const set = await invokeOK(alice.sb, 'rooms/settings', { room_id: roomId, ready_mode: true });
    assert.equal(set.room.ready_mode, true);
    await bRec.waitFor('rooms', (p) => p.new.ready_mode === true, { since, what: 'rooms UPDATE (ready_mode)' });

    since = bRec.mark();
    const held = await invoke(alice.sb, 'sync/control', { room_id: roomId, action: 'play', current_time: 42.5 });
    assert.equal(held.status, 409);
    assert.equal(held.body.success, false);
    assert.equal(held.body.error.code, 'NOT_READY');
    assert.equal(held.body.error.not_ready_count, 1);
    assert.deepEqual(held.body.error.not_ready, [{ user_id: bob.user.id, username: 'bob' }]);
    assert.match(held.body.error.message, /^1 not ready \(bob\)/);
    const pending = await bRec.waitFor('rooms', (p) => p.new.start_pending === true, { since, what: 'rooms UPDATE (start_pending)' });
    assert.equal(pending.new.is_playing, false);

    since = [aRec.mark(), bRec.mark()];
    const ready = await invokeOK(bob.sb, 'rooms/ready', { room_id: roomId, ready: true });
    assert.equal(ready.member.ready, true);
    assert.equal(ready.room.is_playing, true);
    const row = await aRec.waitFor('room_members', (p) => p.new.user_id === bob.user.id && p.new.ready === true,
      { since: since[0], what: 'room_members UPDATE (ready)' });
    assert.equal(row.old.ready, false);
    for (const [i, rec] of [aRec, bRec].entries()) {
      const ev = await rec.waitFor('rooms', (p) => p.new.is_playing === true && p.new.start_pending === false,
        { since: since[i], what: 'rooms UPDATE (the start)' });
      assert.equal(ev.new.state_version, ready.room.state_version);
      await rec.waitFor('comments', (p) => p.new.message === 'Everyone is ready: playing', { since: since[i], what: 'the start notice' });
    }
    // Back to a paused room without the ready check, as the next tests expect.
    await invokeOK(alice.sb, 'sync/control', { room_id: roomId, action: 'pause', current_time: 42.5 });
    await invokeOK(alice.sb, 'rooms/settings', { room_id: roomId, ready_mode: false });
  });

  it('the queue: supabase-js reads room_queue and receives its changes; queue/next changes the room', async () => {
    const qRec = new Recorder('bob queue');
    const qCh = bob.sb.channel(`room:${roomId}:queue`, { config: { private: true } })
      .on('postgres_changes', { event: '*', schema: 'public', table: 'room_queue', filter: `room_id=eq.${roomId}` },
        (p) => qRec.push('room_queue', p));
    await subscribe(qCh, qRec);
    let since = qRec.mark();
    const added = await invokeOK(alice.sb, 'rooms/queue/add',
      { room_id: roomId, title: 'Episode 2', duration: 1440, media_url: 'https://example.com/ep2.mkv' });
    const ins = await qRec.waitFor('room_queue', (p) => p.eventType === 'INSERT', { since, what: 'room_queue INSERT' });
    assert.equal(ins.new.id, added.entry.id);
    assert.equal(ins.new.title, 'Episode 2');

    const { data, error } = await bob.sb.from('room_queue').select('*').eq('room_id', roomId).order('position');
    assert.equal(error, null, error?.message);
    assert.deepEqual(data.map((q) => q.title), ['Episode 2']);

    since = bRec.mark();
    const next = await invokeOK(alice.sb, 'rooms/queue/next', { room_id: roomId });
    assert.equal(next.room.queue_entry_id, added.entry.id);
    const ev = await bRec.waitFor('rooms', (p) => p.new.queue_entry_id === added.entry.id, { since, what: 'rooms UPDATE (queue next)' });
    assert.equal(ev.new.media_url, 'https://example.com/ep2.mkv');

    since = qRec.mark();
    await invokeOK(alice.sb, 'rooms/queue/remove', { room_id: roomId, entry_id: added.entry.id });
    const upd = await qRec.waitFor('room_queue', (p) => p.eventType === 'UPDATE', { since, what: 'room_queue UPDATE (removed)' });
    assert.equal(typeof upd.new.removed_at, 'string');
    await qCh.unsubscribe();
  });

  it('refuses a control by a member who is not the host and leaves the room unchanged', async () => {
    const before = await syncState(bob.sb, roomId, bob.user.id);
    const { status, body } = await invoke(bob.sb, 'sync/control', { room_id: roomId, action: 'play', current_time: 99 });
    assert.equal(status, 403);
    assert.equal(body.success, false);
    assert.equal(body.error.code, 'NOT_HOST');
    const afterRead = await syncState(bob.sb, roomId, bob.user.id);
    assert.deepEqual(afterRead.room, before.room);

    // Nothing was published either: the next rooms UPDATE bob sees is the host's next control.
    const since = bRec.mark();
    await invokeOK(alice.sb, 'sync/control', { room_id: roomId, action: 'seek', current_time: 50 });
    const ev = await bRec.waitFor('rooms', () => true, { since, what: 'rooms UPDATE (seek)' });
    assert.equal(ev.new.current_time, 50);
    assert.equal(ev.new.state_version, before.room.state_version + 1);
  });

  it('broadcasts to self and to the other, and acks when asked', async () => {
    // The browser client's channel: broadcast.self, no ack.
    let since = [aRec.mark(), bRec.mark()];
    assert.equal(await aCh.send({ type: 'broadcast', event: 'cue', payload: { at: 50 } }), 'ok');
    for (const [i, rec] of [aRec, bRec].entries()) {
      const ev = await rec.waitFor('broadcast', (p) => p.event === 'cue', { since: since[i], what: 'broadcast cue' });
      assert.deepEqual(ev.payload, { at: 50 });
    }

    // A second channel with ack: send() resolves 'ok' only on the server's reply.
    const aAck = new Recorder('alice acks');
    const bAck = new Recorder('bob acks');
    const opts = { config: { broadcast: { self: true, ack: true } } };
    const aChAck = alice.sb.channel(`room:${roomId}:acks`, opts).on('broadcast', { event: '*' }, (p) => aAck.push('broadcast', p));
    const bChAck = bob.sb.channel(`room:${roomId}:acks`, opts).on('broadcast', { event: '*' }, (p) => bAck.push('broadcast', p));
    await Promise.all([subscribe(aChAck, aAck), subscribe(bChAck, bAck)]);
    since = [aAck.mark(), bAck.mark()];
    assert.equal(await bChAck.send({ type: 'broadcast', event: 'ping', payload: { n: 1 } }), 'ok');
    for (const [i, rec] of [aAck, bAck].entries()) {
      const ev = await rec.waitFor('broadcast', (p) => p.event === 'ping', { since: since[i] });
      assert.deepEqual(ev.payload, { n: 1 });
    }
    // A binary payload travels as a binary frame both ways (kinds 3 and 4).
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    assert.equal(await bChAck.send({ type: 'broadcast', event: 'blob', payload: bytes.buffer }), 'ok');
    const blob = await aAck.waitFor('broadcast', (p) => p.event === 'blob', { what: 'binary broadcast' });
    assert.deepEqual(new Uint8Array(blob.payload), bytes);
    await Promise.all([aChAck.unsubscribe(), bChAck.unsubscribe()]);
  });

  it('sends a presence leave when bob untracks', async () => {
    const since = aRec.mark();
    assert.equal(await bCh.untrack(), 'ok');
    const leave = await aRec.waitFor('leave', (p) => p.key === bob.user.id, { since, what: 'presence leave (untrack)' });
    assert.equal(leave.leftPresences[0].username, 'bob');
    assert.equal(aCh.presenceState()[bob.user.id], undefined);
    assert.ok(aCh.presenceState()[alice.user.id], 'alice lost her own presence');

    assert.equal(await bCh.track(presenceMeta(bob.user, 'bob', 50, false)), 'ok');
    await aRec.waitFor('join', (p) => p.key === bob.user.id, { since, what: 'presence join (re-track)' });
  });

  it("sends a presence leave when bob's socket closes", async () => {
    const since = aRec.mark();
    bob.sb.realtime.disconnect();
    await aRec.waitFor('leave', (p) => p.key === bob.user.id, { since, what: 'presence leave (socket closed)' });
    assert.equal(aCh.presenceState()[bob.user.id], undefined);
  });
});
