// Identity with the real supabase-js: calls without a user token are refused, a session
// refreshes, and a joined channel follows realtime.setAuth in both directions.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  ANON_KEY,
  Recorder,
  closeAll,
  invoke,
  invokeOK,
  newClient,
  presenceMeta,
  roomChannel,
  signIn,
  subscribe,
} from './lib.mjs';

describe('auth with supabase-js', () => {
  after(closeAll);

  it('refuses calls without a user token with 401', async () => {
    const host = await signIn();
    const { room } = await invokeOK(host.sb, 'rooms/create', { username: 'host' });

    // No session: supabase-js sends the anon key as the bearer, which names no user.
    const anon = newClient();
    assert.equal((await anon.auth.getSession()).data.session, null);
    for (const [name, body] of [
      ['rooms/create', { username: 'mallory' }],
      ['rooms/join', { room_id: room.room_id, username: 'mallory' }],
      ['sync/control', { room_id: room.room_id, action: 'pause', current_time: 1 }],
      ['comments/create', { room_id: room.room_id, message: 'hi' }],
    ]) {
      const { status, body: reply } = await invoke(anon, name, body);
      assert.equal(status, 401, `${name}: ${JSON.stringify(reply)}`);
      assert.equal(reply.success, false);
      assert.equal(reply.error.code, 'UNAUTHORIZED', name);
    }
    const rpc = await anon.rpc('track_user_presence', { p_room_id: room.room_id, p_current_time: 1, p_is_playing: false });
    assert.equal(rpc.status, 401);
    assert.equal(rpc.error?.code, 'PT401');
  });

  it('refreshes the session, and a channel keeps working after realtime.setAuth', async () => {
    const alice = await signIn();
    const { data, error } = await alice.sb.auth.refreshSession();
    assert.equal(error, null, error?.message);
    const fresh = data.session;
    assert.ok(fresh.access_token);
    assert.notEqual(fresh.refresh_token, alice.session.refresh_token, 'refresh token not rotated');
    assert.equal(data.user.id, alice.user.id);
    const who = await alice.sb.auth.getUser(fresh.access_token);
    assert.equal(who.error, null, who.error?.message);
    assert.equal(who.data.user.id, alice.user.id);
    // The rotated-out token still works for a few seconds (GoTrue's reuse window), so two
    // processes sharing a saved session may refresh at once.
    const again = await alice.sb.auth.refreshSession({ refresh_token: alice.session.refresh_token });
    assert.equal(again.error, null, again.error?.message);
    assert.equal(again.data.user.id, alice.user.id);

    const { room } = await invokeOK(alice.sb, 'rooms/create', { username: 'alice' });
    const rec = new Recorder('alice');
    const ch = roomChannel(alice.sb, room.room_id, alice.user.id, rec);
    await subscribe(ch, rec);
    // track() is answered by the server, and frames are handled in order, so its 'ok' means an
    // access_token pushed before it has been applied.
    assert.equal(await ch.track(presenceMeta(alice.user, 'alice', 0, false)), 'ok');

    // With the anon key the channel names no user, so room rows (members only) stop arriving…
    const since = rec.mark();
    await alice.sb.realtime.setAuth(ANON_KEY);
    assert.equal(await ch.track(presenceMeta(alice.user, 'alice', 1, false)), 'ok');
    await invokeOK(alice.sb, 'sync/control', { room_id: room.room_id, action: 'seek', current_time: 5 });

    // …and with the refreshed user token they arrive again, on the same channel.
    await alice.sb.realtime.setAuth(fresh.access_token);
    assert.equal(await ch.track(presenceMeta(alice.user, 'alice', 2, false)), 'ok');
    await invokeOK(alice.sb, 'sync/control', { room_id: room.room_id, action: 'seek', current_time: 6 });
    const ev = await rec.waitFor('rooms', () => true, { since, what: 'rooms UPDATE after setAuth' });
    assert.equal(ev.new.current_time, 6, 'the update made while the channel held the anon key was delivered');
    assert.equal(ch.state, 'joined');
    assert.deepEqual(
      rec.events.slice(since).filter((e) => e.kind === 'status'),
      [],
      'the channel changed state',
    );
  });
});
