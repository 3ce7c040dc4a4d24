// Shared helpers for the interop suite: real supabase-js clients pointed at the server that
// run.sh started (WATCHPARTY_URL, WATCHPARTY_ANON_KEY), an event recorder to wait on with a
// deadline, and the channel set-up of the browser client (docs/design.md §1).
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';

export const SERVER_URL = process.env.WATCHPARTY_URL;
export const ANON_KEY = process.env.WATCHPARTY_ANON_KEY;
if (!SERVER_URL || !ANON_KEY) {
  throw new Error('WATCHPARTY_URL and WATCHPARTY_ANON_KEY must be set: run the suite with interop/run.sh');
}

// How long any single expected event may take. Loopback delivery takes milliseconds; the
// margin is for a loaded 2-core CI machine.
export const DEADLINE_MS = 5000;

// Clients created by newClient, closed by closeAll so no socket keeps the test process alive.
const clients = new Set();

// newClient returns a supabase-js client with no session storage and no refresh timer. Node 20
// has no global WebSocket, so `ws` is passed as the Realtime transport.
export function newClient({ vsn } = {}) {
  const realtime = { transport: WebSocket };
  if (vsn) realtime.vsn = vsn;
  const sb = createClient(SERVER_URL, ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime,
  });
  clients.add(sb);
  return sb;
}

// closeAll leaves every channel and closes every socket. realtime-js still leaves 10 s timers
// behind (disconnect's fallback, the timeout of a broadcast push that expects no reply), so
// run.sh passes --test-force-exit.
export async function closeAll() {
  for (const sb of clients) {
    await sb.removeAllChannels();
    sb.realtime.disconnect();
  }
  clients.clear();
}

// signIn signs a new client in anonymously and returns {sb, user, session}.
export async function signIn(opts) {
  const sb = newClient(opts);
  const { data, error } = await sb.auth.signInAnonymously();
  assert.equal(error, null, `signInAnonymously: ${error?.message}`);
  assert.ok(data.session?.access_token, 'signInAnonymously gave no session');
  assert.equal(data.user.is_anonymous, true);
  return { sb, user: data.user, session: data.session };
}

// invoke calls an Edge Function and returns {status, body} for success and failure alike
// (supabase-js hides a non-2xx body in error.context, a fetch Response).
export async function invoke(sb, name, body) {
  const { data, error, response } = await sb.functions.invoke(name, { body });
  if (!error) return { status: response?.status ?? 200, body: data };
  assert.equal(error.name, 'FunctionsHttpError', `${name}: ${error.message}`);
  const res = error.context;
  return { status: res.status, body: await res.json() };
}

// invokeOK calls an Edge Function that must succeed and returns its data.
export async function invokeOK(sb, name, body) {
  const { status, body: reply } = await invoke(sb, name, body);
  assert.equal(status, 200, `${name}: ${JSON.stringify(reply)}`);
  assert.equal(reply.success, true);
  return reply.data;
}

// Recorder keeps every event a channel delivered, in order, and lets a test wait for one.
export class Recorder {
  constructor(name) {
    this.name = name;
    this.events = [];
    this.waiters = new Set();
  }

  push(kind, payload) {
    this.events.push({ kind, payload });
    for (const w of this.waiters) w();
  }

  // mark returns a position; waitFor(…, {since}) then only looks at later events.
  mark() {
    return this.events.length;
  }

  // waitFor resolves with the first event of kind (at or after since) for which pred holds,
  // or rejects when the deadline passes.
  waitFor(kind, pred = () => true, { since = 0, ms = DEADLINE_MS, what = kind } = {}) {
    let i = since;
    const find = () => {
      for (; i < this.events.length; i++) {
        const e = this.events[i];
        if (e.kind === kind && pred(e.payload)) return { value: e.payload };
      }
      return null;
    };
    const failure = () => {
      const seen = this.events.slice(since).map((e) => e.kind).join(', ');
      return `no ${what} within ${ms} ms (saw: ${seen || 'nothing'})`;
    };
    return this.#wait(find, failure, ms);
  }

  // until resolves when cond() holds, re-checking after every event, or rejects at the deadline.
  until(cond, what, ms = DEADLINE_MS) {
    return this.#wait(() => (cond() ? { value: undefined } : null), () => `${what} not reached within ${ms} ms`, ms);
  }

  // #wait runs find now and after every event until it returns {value}, or rejects with
  // failure() after ms.
  #wait(find, failure, ms) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found) {
          done();
          resolve(found.value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: ${failure()}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}

// roomChannel builds the browser client's channel for a room: broadcast self, presence keyed by
// the user id, the three postgres_changes bindings and the presence listeners, all recorded.
// It does not subscribe.
export function roomChannel(sb, roomId, userId, rec) {
  const ch = sb.channel(`room:${roomId}`, {
    config: { broadcast: { self: true }, presence: { key: userId } },
  });
  const filter = `room_id=eq.${roomId}`;
  ch.on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'rooms', filter }, (p) =>
    rec.push('rooms', p),
  );
  ch.on('postgres_changes', { event: '*', schema: 'public', table: 'room_members', filter }, (p) =>
    rec.push('room_members', p),
  );
  ch.on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'comments', filter }, (p) =>
    rec.push('comments', p),
  );
  ch.on('presence', { event: 'sync' }, () => rec.push('sync', ch.presenceState()));
  ch.on('presence', { event: 'join' }, (p) => rec.push('join', p));
  ch.on('presence', { event: 'leave' }, (p) => rec.push('leave', p));
  ch.on('system', {}, (p) => rec.push('system', p));
  // Broadcast listeners are not part of the join payload, so this keeps the browser client's bindings.
  ch.on('broadcast', { event: '*' }, (p) => rec.push('broadcast', p));
  return ch;
}

// subscribe subscribes ch, records every status and resolves on SUBSCRIBED (rejects on any
// other first status, or at the deadline).
export function subscribe(ch, rec) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${rec.name}: not SUBSCRIBED within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    let first = true;
    ch.subscribe((status, err) => {
      rec.push('status', { status, err: err?.message });
      if (!first) return;
      first = false;
      clearTimeout(timer);
      if (status === 'SUBSCRIBED') resolve();
      else reject(new Error(`${rec.name}: subscribe gave ${status}: ${err?.message}`));
    });
  });
}

// presenceMeta is what the browser client tracks.
export function presenceMeta(user, username, currentTime, isPlaying) {
  return { user_id: user.id, username, current_time: currentTime, is_playing: isPlaying, last_update: Date.now() };
}

// syncState reads a room through get_room_sync_state as the browser client's sync to live does.
export async function syncState(sb, roomId, userId) {
  const { data, error, status } = await sb.rpc('get_room_sync_state', { p_room_id: roomId, p_user_id: userId });
  assert.equal(error, null, `get_room_sync_state: ${error?.message}`);
  assert.equal(status, 200);
  assert.equal(data.error, undefined, `get_room_sync_state: ${data.error}`);
  return data;
}

// eventually polls cond every 20 ms until it holds, for state that no event announces (a
// channel's removal from the client), or rejects at the deadline.
export async function eventually(cond, what, ms = DEADLINE_MS) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
