// A supabase-js 2.119.0 peer for realtime's interop test (interop_test.go): it signs in
// anonymously, joins a room through the rooms/join Edge Function, subscribes to the room's channel
// exactly as the browser client of docs/design.md §1 does (three postgres_changes listeners and
// presence keyed by user id), tracks its presence, and reports everything it sees as JSON lines on
// stdout. It reads commands as JSON lines on stdin: {"cmd":"comment","message":"…"},
// {"cmd":"track","payload":{…}} and {"cmd":"exit"}.
//
// Environment: WP_URL, WP_ANON_KEY, WP_ROOM_ID, WP_INVITE_SECRET (the room's invite secret); WP_NODE_MODULES overrides where the
// packages are (default: the interop suite's node_modules).
'use strict';

const path = require('path');
const readline = require('readline');

const modules = process.env.WP_NODE_MODULES || path.join(__dirname, '..', '..', '..', 'interop', 'node_modules');
const { createClient } = require(path.join(modules, '@supabase', 'supabase-js'));
const WebSocket = require(path.join(modules, 'ws'));

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const fail = (msg) => {
  out({ type: 'error', message: String(msg) });
  process.exit(1);
};
setTimeout(() => fail('peer timed out'), 60000).unref();

async function main() {
  const url = process.env.WP_URL;
  const key = process.env.WP_ANON_KEY;
  const roomId = process.env.WP_ROOM_ID;
  if (!url || !key || !roomId) fail('set WP_URL, WP_ANON_KEY and WP_ROOM_ID');

  const supabase = createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket },
  });
  const { data: auth, error: authErr } = await supabase.auth.signInAnonymously();
  if (authErr) fail('sign in: ' + authErr.message);
  const userId = auth.user.id;
  out({ type: 'signed_in', user_id: userId });

  const { error: joinErr } = await supabase.functions.invoke('rooms/join', {
    body: { room_id: roomId, username: 'js', invite_secret: process.env.WP_INVITE_SECRET },
  });
  if (joinErr) fail('rooms/join: ' + joinErr.message);

  const filter = 'room_id=eq.' + roomId;
  const change = (payload) =>
    out({ type: 'change', table: payload.table, eventType: payload.eventType, new: payload.new, old: payload.old });
  const channel = supabase
    .channel('room:' + roomId, { config: { presence: { key: userId } } })
    .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'rooms', filter }, change)
    .on('postgres_changes', { event: '*', schema: 'public', table: 'room_members', filter }, change)
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'comments', filter }, change)
    .on('presence', { event: 'sync' }, () => out({ type: 'presence', state: channel.presenceState() }));

  channel.subscribe(async (status, err) => {
    out({ type: 'status', status, error: err ? err.message : null });
    if (status === 'SUBSCRIBED') {
      const r = await channel.track({ user_id: userId, username: 'js' });
      out({ type: 'tracked', result: r });
    }
  });

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (e) {
      fail('bad command: ' + line);
    }
    if (cmd.cmd === 'comment') {
      const { error } = await supabase.functions.invoke('comments/create', { body: { room_id: roomId, message: cmd.message } });
      out({ type: 'commented', error: error ? error.message : null });
    } else if (cmd.cmd === 'track') {
      const r = await channel.track(cmd.payload);
      out({ type: 'tracked', result: r });
    } else if (cmd.cmd === 'exit') {
      await supabase.removeAllChannels();
      out({ type: 'bye' });
      process.exit(0);
    }
  }
}

main().catch((e) => fail(e && e.stack ? e.stack : e));
