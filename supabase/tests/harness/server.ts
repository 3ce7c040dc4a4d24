/**
 * The local stand-in for a Supabase project, for tests only: enough of the gateway, GoTrue and
 * PostgREST for the contract runner, with the real Edge Function handlers mounted at
 * /functions/v1/<name>. The functions reach the database the production way — supabase-js to this
 * server's /rest/v1 with the caller's token.
 *
 *   POST /auth/v1/signup          anonymous user: a row in the stub auth.users, a session in
 *                                 auth.sessions, HS256 tokens that name it (session_id)
 *   POST /auth/v1/logout          ends the token's session (scope local, global or others), 204
 *   POST /rest/v1/rpc/<fn>        MiniPostgrest
 *   GET  /rest/v1/<table>         MiniPostgrest
 *   *    /functions/v1/<name>/…   createHandler(name, supabaseDb(this server))
 */
import type postgres from "npm:postgres@3.4.9";
import { createHandler, type FunctionName } from "../../functions/_shared/handler.ts";
import { supabaseDb } from "../../functions/_shared/supabase_db.ts";
import { signJwt, verifyJwt } from "./jwt.ts";
import { type Answer, MiniPostgrest } from "./postgrest.ts";

/** A running harness. */
export interface Harness {
  url: string;
  anonKey: string;
  jwtSecret: string;
  /** Mints an access token of a new session (a row in auth.sessions) for an existing auth.users
   * id (tests that need unusual tokens). */
  mintUserToken(userId: string, ttlSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  sql: postgres.Sql;
  /** HS256 secret; a random one by default. */
  jwtSecret?: string;
  /** Reports unexpected failures of the functions. Default: console.error. */
  logError?: (message: string, cause?: unknown) => void;
}

const functionNames: FunctionName[] = ["rooms", "sync", "comments"];

function randomText(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function answer(a: Answer, extra: Record<string, string> = {}): Response {
  if (a.status === 204) return new Response(null, { status: 204 });
  return new Response(a.body ?? "", {
    status: a.status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...extra },
  });
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** Starts the harness on a free loopback port. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const { sql } = options;
  const jwtSecret = options.jwtSecret ?? randomText(32);
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const anonKey = await signJwt(
    { iss: "supabase-demo", role: "anon", exp: nowSeconds() + 10 * 365 * 86400 },
    jwtSecret,
  );
  const rest = new MiniPostgrest(sql, jwtSecret);

  const mintUserToken = async (userId: string, ttlSeconds = 3600) => {
    const sessionId = crypto.randomUUID();
    await sql`insert into auth.sessions (id, user_id) values (${sessionId}, ${userId})`;
    return await signJwt({
      iss: "http://127.0.0.1/auth/v1",
      sub: userId,
      aud: "authenticated",
      exp: nowSeconds() + ttlSeconds,
      iat: nowSeconds(),
      email: "",
      phone: "",
      app_metadata: {},
      user_metadata: {},
      role: "authenticated",
      aal: "aal1",
      amr: [{ method: "anonymous", timestamp: nowSeconds() }],
      session_id: sessionId,
      is_anonymous: true,
    }, jwtSecret);
  };

  // GoTrue's logout: the bearer's session (scope=local, the default), all of the user's
  // (global) or all but it (others) end; their access tokens still verify but name no session.
  async function logout(req: Request, url: URL): Promise<Response> {
    const m = /^bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "");
    const verified = m ? await verifyJwt(m[1], jwtSecret) : { refused: "invalid" as const };
    if ("refused" in verified || typeof verified.claims.sub !== "string") {
      return jsonResponse(401, {
        code: 401,
        error_code: "no_authorization",
        msg: "This endpoint requires a valid Bearer token",
      });
    }
    const { sub, session_id: sessionId } = verified.claims as { sub: string; session_id?: string };
    const scope = url.searchParams.get("scope") ?? "local";
    if (scope === "global") await sql`delete from auth.sessions where user_id = ${sub}`;
    else if (scope === "others") {
      await sql`delete from auth.sessions where user_id = ${sub} and id::text <> ${sessionId ?? ""}`;
    } else await sql`delete from auth.sessions where user_id = ${sub} and id::text = ${sessionId ?? ""}`;
    return new Response(null, { status: 204 });
  }

  async function signup(req: Request): Promise<Response> {
    let data: unknown = {};
    try {
      const body = await req.json();
      if (body && typeof body.data === "object" && body.data !== null) data = body.data;
    } catch {
      // supabase-js always sends a body; an empty one is an anonymous sign-up all the same
    }
    const id = crypto.randomUUID();
    const created = new Date().toISOString();
    await sql`insert into auth.users (id, raw_user_meta_data) values (${id}, ${sql.json(data as postgres.JSONValue)})`;
    const token = await mintUserToken(id);
    return jsonResponse(200, {
      access_token: token,
      token_type: "bearer",
      expires_in: 3600,
      expires_at: nowSeconds() + 3600,
      refresh_token: randomText(6),
      user: {
        id,
        aud: "authenticated",
        role: "authenticated",
        email: "",
        phone: "",
        last_sign_in_at: created,
        app_metadata: {},
        user_metadata: data,
        identities: [],
        created_at: created,
        updated_at: created,
        is_anonymous: true,
      },
    });
  }

  let baseUrl = "";
  const handlers = new Map<string, (req: Request) => Promise<Response>>();
  const functionHandler = (name: FunctionName) => {
    let h = handlers.get(name);
    if (!h) {
      h = createHandler(name, supabaseDb(baseUrl, anonKey), { logError: options.logError });
      handlers.set(name, h);
    }
    return h;
  };

  async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path.startsWith("/functions/v1/")) {
      const rest = path.slice("/functions/v1/".length);
      const name = rest.split("/")[0] as FunctionName;
      if (!functionNames.includes(name)) {
        // The hosted gateway's own reply for a function that is not deployed.
        return jsonResponse(404, { code: "NOT_FOUND", message: "Requested function was not found" });
      }
      // The gateway forwards the path without /functions/v1, as on a hosted project.
      // (A fresh init, not `req` itself: copying a request reads its abort signal, which Deno warns about.)
      return await functionHandler(name)(
        new Request(new URL("/" + rest + url.search, url), {
          method: req.method,
          headers: req.headers,
          body: req.method === "GET" || req.method === "HEAD" ? null : req.body,
        }),
      );
    }
    const apikey = req.headers.get("apikey") ?? url.searchParams.get("apikey");
    if (!apikey) return jsonResponse(401, { message: "No API key found in request" });
    if (apikey !== anonKey) return jsonResponse(401, { message: "Invalid API key" });

    if (path === "/auth/v1/signup" && req.method === "POST") return await signup(req);
    if (path === "/auth/v1/logout" && req.method === "POST") return await logout(req, url);
    const rpc = /^\/rest\/v1\/rpc\/([^/]+)$/.exec(path);
    if (rpc && req.method === "POST") {
      let body: unknown;
      try {
        const text = await req.text();
        body = text === "" ? {} : JSON.parse(text);
      } catch {
        return answer({
          status: 400,
          body: JSON.stringify({ code: "PGRST102", message: "Empty or invalid json", details: null, hint: null }),
        });
      }
      return answer(await rest.rpc(rpc[1], body, req.headers.get("authorization")));
    }
    const table = /^\/rest\/v1\/([^/]+)$/.exec(path);
    if (table && req.method === "GET") {
      const a = await rest.select(table[1], url.searchParams, req.headers.get("authorization"));
      const extra: Record<string, string> = {};
      if (a.status === 200) {
        const n = (JSON.parse(a.body!) as unknown[]).length;
        extra["Content-Range"] = n > 0 ? `0-${n - 1}/*` : "*/*";
      }
      return answer(a, extra);
    }
    return jsonResponse(404, { message: "no route matched" });
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    try {
      return await route(req);
    } catch (err) {
      (options.logError ?? console.error)("harness: unexpected failure", err);
      return jsonResponse(500, { message: "harness failure" });
    }
  });
  baseUrl = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: baseUrl,
    anonKey,
    jwtSecret,
    mintUserToken,
    close: () => server.shutdown(),
  };
}
