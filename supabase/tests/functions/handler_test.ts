/**
 * Tests of the Edge Function handlers (supabase/functions/_shared) against the throwaway cluster
 * that tests/run.sh starts: the handlers with an injected database adapter (pgDb), the failure
 * mapping with scripted adapters, and the production adapter (supabaseDb, supabase-js) against the
 * local harness.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { createHandler, MAX_BODY_BYTES } from "../../functions/_shared/handler.ts";
import type { RoomsDb, RpcResult } from "../../functions/_shared/db.ts";
import { supabaseDb } from "../../functions/_shared/supabase_db.ts";
import { connect } from "../harness/db.ts";
import { pgDb } from "../harness/pg_db.ts";
import { MiniPostgrest } from "../harness/postgrest.ts";
import { startHarness } from "../harness/server.ts";
import { signJwt } from "../harness/jwt.ts";

type Reply = { status: number; headers: Headers; body: Record<string, unknown> };

async function call(
  handler: (req: Request) => Promise<Response>,
  path: string,
  init: { token?: string | null; body?: unknown; raw?: BodyInit; method?: string; headers?: Record<string, string> } =
    {},
): Promise<Reply> {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...(init.headers ?? {}) };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  const res = await handler(
    new Request(`http://functions.local${path}`, {
      method: init.method ?? "POST",
      headers,
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    }),
  );
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === "" ? {} : JSON.parse(text) };
}

function errorCode(r: Reply): unknown {
  return (r.body.error as Record<string, unknown> | undefined)?.code;
}

/** A database that records calls and answers with a script. */
function scriptedDb(answer: (fn: string) => RpcResult | Promise<RpcResult>): RoomsDb & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    rpc(fn) {
      calls.push(fn);
      return Promise.resolve(answer(fn));
    },
  };
}

Deno.test("edge function handlers", async (t) => {
  const sql = connect();
  const logged: string[] = [];
  const logError = (message: string) => logged.push(message);
  const harness = await startHarness({ sql, logError });
  const rest = new MiniPostgrest(sql, harness.jwtSecret);
  const newUser = async () => {
    const id = crypto.randomUUID();
    await sql`insert into auth.users (id) values (${id})`;
    return { id, token: await harness.mintUserToken(id) };
  };
  const alice = await newUser();
  const bob = await newUser();
  const rooms = createHandler("rooms", pgDb(rest), { logError });
  const sync = createHandler("sync", pgDb(rest), { logError });

  try {
    let roomId = "";
    await t.step("create and join through the injected adapter, both path forms", async () => {
      const created = await call(rooms, "/rooms/create", {
        token: alice.token,
        body: { username: "alice", media_title: "Demo" },
      });
      assertEquals(created.status, 200);
      assertEquals(created.body.success, true);
      const data = created.body.data as { room: Record<string, unknown>; member: Record<string, unknown> };
      assertEquals(data.room.host_user_id, alice.id);
      assertEquals(data.member.role, "host");
      assertEquals(created.headers.get("content-type"), "application/json");
      roomId = data.room.room_id as string;
      assertMatch(roomId, /^[a-z0-9]{10}$/);
      const secret = (created.body.data as Record<string, string>).invite_secret;
      assertMatch(secret, /^[A-Za-z0-9_-]{24}$/, "create returns the room's first invite secret");

      const joined = await call(rooms, "/functions/v1/rooms/join", {
        token: bob.token,
        body: { room_id: roomId, username: "b\u0000ob", invite_secret: secret },
      });
      assertEquals(joined.status, 200);
      const j = joined.body.data as { member: Record<string, unknown>; members: unknown[] };
      assertEquals(j.member.role, "member");
      assertEquals(j.member.username, "bob", "U+0000 is dropped before PostgreSQL sees it");
      assertEquals(j.members.length, 2);

      const control = await call(sync, "/sync/control/", {
        token: bob.token,
        body: { room_id: roomId, action: "play", current_time: 1 },
      });
      assertEquals([control.status, errorCode(control)], [403, "NOT_HOST"], "SQL errors keep their PT status and code");
    });

    await t.step("client_id and rooms/handover through the injected adapter", async () => {
      const clientMessage = "client_id must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -";
      const created = await call(rooms, "/rooms/create", { token: alice.token, body: { username: "alice" } });
      assertMatch((created.body.data as Record<string, string>).client_id, /^[A-Za-z0-9_-]{16,64}$/);
      const room = (created.body.data as Record<string, Record<string, string>>).room.room_id;
      const secret = (created.body.data as Record<string, string>).invite_secret;
      const joined = await call(rooms, "/rooms/join", {
        token: bob.token,
        body: { room_id: room, username: "bob", client_id: "bob-term-1", invite_secret: secret },
      });
      assertEquals((joined.body.data as Record<string, string>).client_id, "bob-term-1");
      for (const bad of [12345678, true, "short", "has space1", "bob-term-1\u0000"]) {
        const r = await call(rooms, "/rooms/join", {
          token: bob.token,
          body: { room_id: room, username: "bob", client_id: bad },
        });
        assertEquals(
          [r.status, errorCode(r), (r.body.error as Record<string, string>).message],
          [400, "INVALID_REQUEST", clientMessage],
          JSON.stringify(bad),
        );
      }
      const left = await call(rooms, "/rooms/leave", {
        token: bob.token,
        body: { room_id: room, client_id: "bob-term-9" },
      });
      assertEquals(left.status, 200, "leaving a client that is not there");
      // bob's only client never beat, so that leave took him out: he joins again.
      await call(rooms, "/rooms/join", {
        token: bob.token,
        body: { room_id: room, username: "bob", client_id: "bob-term-1" },
      });

      const notHost = await call(rooms, "/functions/v1/rooms/handover", {
        token: bob.token,
        body: { room_id: room, to_user_id: alice.id },
      });
      assertEquals([notHost.status, errorCode(notHost)], [403, "NOT_HOST"]);
      for (const bad of [undefined, 42, alice.id]) {
        const r = await call(rooms, "/rooms/handover", {
          token: alice.token,
          body: { room_id: room, to_user_id: bad },
        });
        assertEquals([r.status, errorCode(r)], [400, "INVALID_REQUEST"], String(bad));
      }
      const handed = await call(rooms, "/rooms/handover", {
        token: alice.token,
        body: { room_id: room, to_user_id: bob.id },
      });
      assertEquals(handed.status, 200);
      const r = (handed.body.data as Record<string, Record<string, unknown>>).room;
      assertEquals([r.host_user_id, r.owner_user_id, r.owner_handed_over], [bob.id, alice.id, true]);
      const wrongFunction = await call(sync, "/sync/handover", { token: alice.token, body: { room_id: room } });
      assertEquals(wrongFunction.status, 404, "handover is a rooms path");
    });

    await t.step("routing: unknown paths 404, other methods 405", async () => {
      for (const path of ["/rooms/nope", "/sync/control", "/rooms", "/", "/functions/v1/rooms/create/extra"]) {
        const r = await call(rooms, path, { token: alice.token, body: {} });
        assertEquals([r.status, errorCode(r), r.body.success], [404, "NOT_FOUND", false], path);
      }
      const r = await call(rooms, "/rooms/create", { method: "GET", token: alice.token });
      assertEquals([r.status, errorCode(r)], [405, "METHOD_NOT_ALLOWED"]);
      assertEquals(r.headers.get("allow"), "POST");
    });

    await t.step("tokens: refused before the database is asked", async () => {
      const db = scriptedDb(() => ({ ok: true, data: {} }));
      const h = createHandler("rooms", db, { logError });
      const now = Math.floor(Date.now() / 1000);
      const tokens: Record<string, string | null> = {
        "no header": null,
        "the anon key": harness.anonKey,
        "an expired token": await harness.mintUserToken(alice.id, -10),
        "a token without sub": await signJwt({ role: "authenticated", exp: now + 60 }, harness.jwtSecret),
        "a token without exp": await signJwt({ role: "authenticated", sub: alice.id }, harness.jwtSecret),
        "not a JWT": "abc.def",
        "bad base64": "a.%%%.c",
      };
      for (const [what, token] of Object.entries(tokens)) {
        const r = await call(h, "/rooms/create", { token, body: { username: "x" } });
        assertEquals([r.status, errorCode(r)], [401, "UNAUTHORIZED"], what);
      }
      const basic = await call(h, "/rooms/create", {
        headers: { Authorization: `Basic ${alice.token}` },
        body: { username: "x" },
      });
      assertEquals(basic.status, 401, "a non-bearer scheme");
      assertEquals(db.calls.length, 0);
    });

    await t.step("a forged signature passes the early check and is refused by PostgREST", async () => {
      const [h, p, s] = alice.token.split(".");
      const forged = `${h}.${p}.${s[0] === "A" ? "B" : "A"}${s.slice(1)}`;
      const r = await call(rooms, "/rooms/create", { token: forged, body: { username: "x" } });
      assertEquals([r.status, errorCode(r)], [401, "UNAUTHORIZED"]);
    });

    await t.step("a token whose session has ended (signed out) is refused by the SQL functions", async () => {
      const token = await harness.mintUserToken(alice.id);
      const before = await call(rooms, "/rooms/create", { token, body: { username: "alice" } });
      assertEquals(before.status, 200, "the session's token works while it lasts");
      const out = await fetch(`${harness.url}/auth/v1/logout`, {
        method: "POST",
        headers: { apikey: harness.anonKey, Authorization: `Bearer ${token}` },
      });
      await out.body?.cancel();
      assertEquals(out.status, 204);
      const after = await call(rooms, "/rooms/create", { token, body: { username: "alice" } });
      assertEquals([after.status, errorCode(after)], [401, "UNAUTHORIZED"], "a function call after sign-out");
      const rpc = await supabaseDb(harness.url, harness.anonKey).rpc(
        "get_room_sync_state",
        { p_room_id: roomId },
        token,
      );
      assert(!rpc.ok);
      assertEquals(
        [rpc.status, rpc.error.code, rpc.error.details],
        [401, "PT401", "UNAUTHORIZED"],
        "an RPC after sign-out",
      );
      const other = await call(rooms, "/rooms/create", { token: alice.token, body: { username: "alice" } });
      assertEquals(other.status, 200, "the user's other sessions go on (scope local)");
    });

    await t.step("bodies: size, JSON, types, user_id", async () => {
      const db = scriptedDb(() => ({ ok: true, data: {} }));
      const h = createHandler("comments", db, { logError });
      const big = await call(h, "/comments/create", {
        token: alice.token,
        body: { room_id: "r", message: "x".repeat(MAX_BODY_BYTES) },
      });
      assertEquals([big.status, errorCode(big)], [413, "PAYLOAD_TOO_LARGE"]);
      // No Content-Length: a stream that goes past the limit.
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(20 * 1024).fill(0x20));
          c.close();
        },
      });
      const streamed = await call(h, "/comments/create", { token: alice.token, raw: stream });
      assertEquals([streamed.status, errorCode(streamed)], [413, "PAYLOAD_TOO_LARGE"]);
      // Exactly at the limit is read (and here refused only for its content).
      const prefix = `{"room_id":"r","message":"`;
      const exact = prefix + "x".repeat(MAX_BODY_BYTES - prefix.length - 2) + `"}`;
      assertEquals(new TextEncoder().encode(exact).length, MAX_BODY_BYTES);
      const atLimit = await call(h, "/comments/create", { token: alice.token, raw: exact });
      assertEquals(atLimit.status, 200, "a body of exactly 64 KiB is accepted by the handler");

      const cases: [string, BodyInit, number, string][] = [
        ["not JSON", "{", 400, "INVALID_REQUEST"],
        ["an array", "[]", 400, "INVALID_REQUEST"],
        ["null", "null", 400, "INVALID_REQUEST"],
        ["no body", "", 400, "INVALID_REQUEST"],
        ["bad UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), 400, "INVALID_REQUEST"],
        ["message missing", `{"room_id":"r"}`, 400, "INVALID_REQUEST"],
        ["message null", `{"room_id":"r","message":null}`, 400, "INVALID_REQUEST"],
        ["message a number", `{"room_id":"r","message":5}`, 400, "INVALID_REQUEST"],
        ["video_timestamp a string", `{"room_id":"r","message":"m","video_timestamp":"1"}`, 400, "INVALID_REQUEST"],
        ["episode_number 1.5", `{"room_id":"r","message":"m","episode_number":1.5}`, 400, "INVALID_REQUEST"],
        ["anime_id an object", `{"room_id":"r","message":"m","anime_id":{}}`, 400, "INVALID_REQUEST"],
        ["user_id a number", `{"room_id":"r","message":"m","user_id":1}`, 400, "INVALID_REQUEST"],
        [
          "user_id of another user, checked before the types",
          `{"room_id":5,"user_id":"${bob.id}"}`,
          403,
          "USER_MISMATCH",
        ],
      ];
      for (const [what, raw, status, code] of cases) {
        const r = await call(h, "/comments/create", { token: alice.token, raw });
        assertEquals([r.status, errorCode(r)], [status, code], what);
      }
      assertEquals(db.calls.length, 1, "only the body at the limit reached the database");

      const ok = await call(h, "/comments/create", {
        token: alice.token,
        body: { room_id: "r", message: "m", anime_id: 42, user_id: alice.id, video_timestamp: null },
      });
      assertEquals(ok.status, 200, "a numeric anime_id, the caller's own user_id and null optionals are fine");
    });

    await t.step("database failures answer 500 INTERNAL and are logged; refused tokens 401", async () => {
      const err = (status: number, code: string, details: string | null = null): RpcResult => ({
        ok: false,
        status,
        error: { code, message: "m", details, hint: null },
      });
      const scripts: [string, () => RpcResult | Promise<RpcResult>, number, string][] = [
        ["an internal error", () => err(500, "XX000"), 500, "INTERNAL"],
        ["a PT status with an unknown code", () => err(403, "PT403", "SOMETHING"), 500, "INTERNAL"],
        ["an unreachable database", () => err(0, ""), 500, "INTERNAL"],
        ["a result that is no object", () => ({ ok: true, data: [1] }), 500, "INTERNAL"],
        ["a throwing adapter", () => Promise.reject(new Error("boom")), 500, "INTERNAL"],
        ["an expired JWT (PGRST303)", () => err(401, "PGRST303"), 401, "UNAUTHORIZED"],
        ["a rate limit", () => err(429, "PT429", "RATE_LIMITED"), 429, "RATE_LIMITED"],
      ];
      for (const [what, script, status, code] of scripts) {
        logged.length = 0;
        const h = createHandler("rooms", scriptedDb(script), { logError });
        const r = await call(h, "/rooms/leave", { token: alice.token, body: { room_id: "r" } });
        assertEquals([r.status, errorCode(r)], [status, code], what);
        assertEquals((r.body.error as Record<string, string>).message.length > 0, true, what);
        assertEquals(logged.length, status === 500 ? 1 : 0, `${what}: logged`);
      }
    });

    await t.step("the production adapter (supabase-js) against the harness", async () => {
      const db = supabaseDb(harness.url, harness.anonKey);
      const state = await db.rpc("get_room_sync_state", { p_room_id: roomId }, bob.token);
      assert(state.ok, "get_room_sync_state succeeds");
      const data = state.data as { room: { room_id: string }; server_time: number };
      assertEquals(data.room.room_id, roomId);
      assertEquals(typeof data.server_time, "number");

      const refused = await db.rpc(
        "control_room",
        { p_room_id: roomId, p_action: "play", p_current_time: 1 },
        bob.token,
      );
      assert(!refused.ok);
      assertEquals([refused.status, refused.error.code, refused.error.details], [403, "PT403", "NOT_HOST"]);

      const missing = await db.rpc("no_such_function", {}, bob.token);
      assert(!missing.ok);
      assertEquals([missing.status, missing.error.code], [404, "PGRST202"]);

      const down = await supabaseDb("http://127.0.0.1:9", harness.anonKey).rpc("get_room_sync_state", {
        p_room_id: roomId,
      }, bob.token);
      assert(!down.ok, "an unreachable PostgREST is a failure, not an exception");
    });
  } finally {
    await harness.close();
    await sql.end({ timeout: 1 });
  }
});
