// Protocol versions and limits with the real supabase-js: a vsn 1.0.0 client in the same room
// as a 2.0.0 one, and the hosted presence cap (5 track/untrack per 30 s per channel).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  Recorder,
  closeAll,
  eventually,
  invokeOK,
  presenceMeta,
  roomChannel,
  signIn,
  subscribe,
} from './lib.mjs';

describe('protocol with supabase-js', () => {
  after(closeAll);

  it('a vsn 1.0.0 client and a 2.0.0 client share a room', async () => {
    const [alice, carol] = await Promise.all([signIn(), signIn({ vsn: '1.0.0' })]);
    assert.equal(carol.sb.realtime.vsn, '1.0.0');
    assert.equal(alice.sb.realtime.vsn, '2.0.0');
    const { room, invite_secret: secret } = await invokeOK(alice.sb, 'rooms/create', { username: 'alice' });
    const roomId = room.room_id;
    const aRec = new Recorder('alice (2.0.0)');
    const aCh = roomChannel(alice.sb, roomId, alice.user.id, aRec);
    await subscribe(aCh, aRec);

    // Members arrive by room_members INSERT (announced at their first beat), and leave by an UPDATE that sets left_at
    // (soft leaves: Supabase Realtime publishes DELETEs without row security), with system comments.
    await invokeOK(carol.sb, 'rooms/join', { room_id: roomId, username: 'carol', invite_secret: secret });
    const ins = await aRec.waitFor('room_members', (p) => p.eventType === 'INSERT', { what: 'room_members INSERT' });
    assert.equal(ins.new.user_id, carol.user.id);
    assert.equal(ins.new.username, 'carol');
    assert.equal(ins.new.role, 'member');
    assert.equal(ins.new.announced, false);
    // Announced by the first liveness beat.
    const beat = await carol.sb.rpc('track_user_presence', { p_room_id: roomId, p_current_time: 0, p_is_playing: false });
    assert.equal(beat.error, null, beat.error?.message);
    const notice = await aRec.waitFor('comments', (p) => p.new.is_system_message, { what: 'join notice' });
    assert.equal(notice.new.message, 'carol joined the room');

    const cRec = new Recorder('carol (1.0.0)');
    const cCh = roomChannel(carol.sb, roomId, carol.user.id, cRec);
    await subscribe(cCh, cRec);
    assert.equal(await aCh.track(presenceMeta(alice.user, 'alice', 0, false)), 'ok');
    assert.equal(await cCh.track(presenceMeta(carol.user, 'carol', 0, false)), 'ok');
    await cRec.until(() => cCh.presenceState()[alice.user.id]?.length === 1, "alice in carol's presenceState()");
    await aRec.until(() => aCh.presenceState()[carol.user.id]?.length === 1, "carol in alice's presenceState()");

    await invokeOK(alice.sb, 'sync/control', { room_id: roomId, action: 'pause', current_time: 7.5 });
    const upd = await cRec.waitFor('rooms', (p) => p.new.current_time === 7.5, { what: 'rooms UPDATE' });
    assert.equal(upd.new.is_playing, false);

    await invokeOK(carol.sb, 'comments/create', { room_id: roomId, message: 'from 1.0.0' });
    await aRec.waitFor('comments', (p) => p.new.message === 'from 1.0.0', { what: 'comments INSERT' });

    // Broadcast: JSON frames for 1.0.0, a binary kind-3 push from 2.0.0, both fanned out.
    assert.equal(await cCh.send({ type: 'broadcast', event: 'cue', payload: { from: 'carol' } }), 'ok');
    for (const rec of [aRec, cRec]) {
      const ev = await rec.waitFor('broadcast', (p) => p.payload?.from === 'carol');
      assert.equal(ev.event, 'cue');
    }
    assert.equal(await aCh.send({ type: 'broadcast', event: 'cue', payload: { from: 'alice' } }), 'ok');
    await cRec.waitFor('broadcast', (p) => p.payload?.from === 'alice', { what: "alice's broadcast" });

    let since = aRec.mark();
    assert.equal(await cCh.untrack(), 'ok');
    await aRec.waitFor('leave', (p) => p.key === carol.user.id, { since, what: 'presence leave' });

    since = aRec.mark();
    await invokeOK(carol.sb, 'rooms/leave', { room_id: roomId });
    const gone = await aRec.waitFor('room_members', (p) => p.eventType === 'UPDATE' && p.new.left_at, { since, what: 'room_members UPDATE with left_at' });
    assert.equal(gone.new.user_id, carol.user.id);
    assert.equal(gone.old.left_at, null);
    const left = await aRec.waitFor('comments', (p) => p.new.is_system_message, { since, what: 'leave notice' });
    assert.equal(left.new.message, 'carol left the room');
  });

  it('the 6th presence call within 30 s closes the channel with a system error', async () => {
    const dave = await signIn();
    const { room } = await invokeOK(dave.sb, 'rooms/create', { username: 'dave' });
    const rec = new Recorder('dave');
    const ch = roomChannel(dave.sb, room.room_id, dave.user.id, rec);
    await subscribe(ch, rec);

    for (let i = 1; i <= 5; i++) {
      const r = i === 3 ? await ch.untrack() : await ch.track(presenceMeta(dave.user, 'dave', i, false));
      assert.equal(r, 'ok', `presence call ${i}`);
    }
    assert.equal(ch.state, 'joined');
    const since = rec.mark();
    await ch.track(presenceMeta(dave.user, 'dave', 6, false));
    const sys = await rec.waitFor('system', (p) => p.status === 'error', { since, what: 'system error' });
    assert.equal(sys.message, 'Client presence rate limit exceeded');
    await rec.waitFor('status', (p) => p.status === 'CLOSED', { since, what: 'CLOSED' });
    // supabase-js drops a channel the server shut; it does not rejoin by itself.
    await eventually(() => dave.sb.getChannels().length === 0, 'channel removed from the client');
    assert.equal(ch.state, 'closed');
  });
});
