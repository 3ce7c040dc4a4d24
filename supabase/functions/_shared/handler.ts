/**
 * The HTTP side of the watchparty Edge Functions (docs/api.md, "Edge Functions"): routing, body
 * limits, the bearer check and JSON types. Everything about rooms — who may do what, names,
 * messages, rate limits — lives in the SQL functions, which this only calls as the caller.
 *
 * Checks run in this order, the same for every endpoint and the same as the embedded server's:
 * path (404), method (405), token (401), size (413), JSON object (400), body user_id (403), field
 * types (400), then the SQL function's own (see the functions migration).
 */
import type { RoomsDb, RpcResult } from "./db.ts";

/** The three deployed functions. */
export type FunctionName = "rooms" | "sync" | "comments";

/** Bodies larger than this are refused with 413 PAYLOAD_TOO_LARGE. */
export const MAX_BODY_BYTES = 64 * 1024;

/** "id" is a string, or a number taken as its decimal text (clients send anime ids either way). */
type FieldType = "string" | "id" | "number" | "integer" | "boolean" | "strings";

interface Field {
  /** key in the request body */
  key: string;
  /** argument of the SQL function */
  arg: string;
  type: FieldType;
  required?: boolean;
  /** the message of a value of the wrong type, when the contract gives one */
  invalid?: string;
}

interface Route {
  rpc: string;
  fields: Field[];
  /** rooms/create: the new room's first invite secret comes from rotate_invite, called right
   * after as the same user, into data.invite_secret (docs/api.md, "Invites and moderation"). */
  withInvite?: boolean;
}

const roomIdField: Field = { key: "room_id", arg: "p_room_id", type: "string", required: true };

/** The member a moderation request is about (rooms/cohost, rooms/kick, rooms/ban). */
const memberUserIdField: Field = {
  key: "member_user_id",
  arg: "p_member_user_id",
  type: "string",
  required: true,
  invalid: "member_user_id must be another member of the room, not its owner",
};

/** A person's client (terminal) in a room; optional. The SQL functions check its shape with the same
 * message, so a wrong type and a wrong shape read alike. */
const clientIdField: Field = {
  key: "client_id",
  arg: "p_client_id",
  type: "string",
  invalid: "client_id must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -",
};

const routes: Record<string, Route> = {
  "rooms/create": {
    rpc: "create_room",
    fields: [
      { key: "username", arg: "p_username", type: "string", required: true },
      { key: "media_url", arg: "p_media_url", type: "string" },
      { key: "media_title", arg: "p_media_title", type: "string" },
      { key: "media_duration", arg: "p_media_duration", type: "number" },
      { key: "anime_id", arg: "p_anime_id", type: "id" },
      { key: "episode_number", arg: "p_episode_number", type: "integer" },
      clientIdField,
      { key: "ready_mode", arg: "p_ready_mode", type: "boolean" },
    ],
    withInvite: true,
  },
  "rooms/join": {
    rpc: "join_room_invited",
    fields: [
      roomIdField,
      { key: "username", arg: "p_username", type: "string", required: true },
      clientIdField,
      { key: "invite_secret", arg: "p_invite_secret", type: "string" },
    ],
  },
  "rooms/invite/rotate": { rpc: "rotate_invite", fields: [roomIdField] },
  "rooms/cohost": {
    rpc: "set_cohost",
    fields: [roomIdField, memberUserIdField, { key: "revoke", arg: "p_revoke", type: "boolean" }],
  },
  "rooms/kick": { rpc: "kick_member", fields: [roomIdField, memberUserIdField] },
  "rooms/ban": { rpc: "ban_member", fields: [roomIdField, memberUserIdField] },
  "rooms/leave": { rpc: "leave_room", fields: [roomIdField, clientIdField] },
  "rooms/handover": {
    rpc: "handover_room",
    fields: [
      roomIdField,
      {
        key: "to_user_id",
        arg: "p_to_user_id",
        type: "string",
        required: true,
        invalid: "to_user_id must be another current member of the room",
      },
    ],
  },
  "sync/control": {
    rpc: "control_room",
    fields: [
      roomIdField,
      { key: "action", arg: "p_action", type: "string", required: true },
      { key: "current_time", arg: "p_current_time", type: "number", required: true },
      { key: "playback_rate", arg: "p_playback_rate", type: "number" },
      { key: "position_at", arg: "p_position_at", type: "number" },
      {
        key: "waiting_for",
        arg: "p_waiting_for",
        type: "strings",
        invalid: "waiting_for must be 1 to 16 different user ids of current members",
      },
      { key: "force", arg: "p_force", type: "boolean" },
    ],
  },
  // The host's settings, each optional (docs/api.md, "The ready check").
  "rooms/settings": {
    rpc: "update_room_settings",
    fields: [
      roomIdField,
      { key: "ready_mode", arg: "p_ready_mode", type: "boolean" },
      {
        key: "wait_limit",
        arg: "p_wait_limit",
        type: "integer",
        invalid: "wait_limit must be a whole number of seconds from 0 to 60",
      },
    ],
  },
  "rooms/ready": {
    rpc: "set_member_ready",
    fields: [roomIdField, { key: "ready", arg: "p_ready", type: "boolean", required: true }],
  },
  "rooms/queue/add": {
    rpc: "queue_add",
    fields: [
      roomIdField,
      { key: "title", arg: "p_title", type: "string" },
      { key: "duration", arg: "p_duration", type: "number" },
      { key: "media_fp", arg: "p_media_fp", type: "string", invalid: "media_fp must be 32 lower-case hex digits" },
      { key: "media_url", arg: "p_media_url", type: "string" },
    ],
  },
  "rooms/queue/remove": {
    rpc: "queue_remove",
    fields: [roomIdField, { key: "entry_id", arg: "p_entry_id", type: "integer", required: true }],
  },
  "rooms/queue/move": {
    rpc: "queue_move",
    fields: [
      roomIdField,
      { key: "entry_id", arg: "p_entry_id", type: "integer", required: true },
      { key: "to", arg: "p_to", type: "integer", required: true },
    ],
  },
  "rooms/queue/next": {
    rpc: "queue_next",
    fields: [
      roomIdField,
      { key: "entry_id", arg: "p_entry_id", type: "integer" },
      { key: "from_entry_id", arg: "p_from_entry_id", type: "integer" },
    ],
  },
  "comments/create": {
    rpc: "create_comment",
    fields: [
      roomIdField,
      { key: "message", arg: "p_message", type: "string", required: true },
      { key: "video_timestamp", arg: "p_video_timestamp", type: "number" },
      { key: "anime_id", arg: "p_anime_id", type: "id" },
      { key: "episode_number", arg: "p_episode_number", type: "integer" },
    ],
  },
};

/** The error codes of the contract; a PostgREST error whose `details` is one of these came from
 * our SQL functions and is passed on with its PTxyz status. */
const contractCodes = new Set([
  "INVALID_REQUEST",
  "INVALID_USERNAME",
  "INVALID_MESSAGE",
  "UNAUTHORIZED",
  "USER_MISMATCH",
  "NOT_MEMBER",
  "NOT_HOST",
  "ROOM_NOT_FOUND",
  "RATE_LIMITED",
  "BANNED",
  "REMOVED",
]);

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  /** Where unexpected failures are reported (they answer 500 INTERNAL). Default: console.error. */
  logError?: (message: string, cause?: unknown) => void;
  /** The clock for token expiry, in ms since the epoch. Default: Date.now. */
  now?: () => number;
}

/**
 * Returns the request handler of one deployed function, to pass to Deno.serve. It accepts the path
 * as the Supabase gateway forwards it (`/rooms/create`) and as clients send it
 * (`/functions/v1/rooms/create`). The handler keeps no state between requests and is safe for
 * concurrent use.
 */
export function createHandler(
  name: FunctionName,
  db: RoomsDb,
  options: HandlerOptions = {},
): (req: Request) => Promise<Response> {
  const logError = options.logError ?? ((message, cause) => console.error(message, cause));
  const now = options.now ?? Date.now;

  return async (req: Request): Promise<Response> => {
    try {
      let path = new URL(req.url).pathname.replace(/^\/functions\/v1(?=\/)/, "").replace(/\/+$/, "");
      path = path.replace(/^\//, "");
      const route = path.startsWith(name + "/") ? routes[path] : undefined;
      if (!route) {
        return failure(404, "NOT_FOUND", `no endpoint ${path === "" ? "/" : "/" + path}`);
      }
      if (req.method !== "POST") {
        return failure(405, "METHOD_NOT_ALLOWED", "use POST", { Allow: "POST" });
      }
      const user = bearerUser(req, now());
      if (user === null) {
        await req.body?.cancel();
        return failure(401, "UNAUTHORIZED", "a valid user access token is required");
      }
      const raw = await readBody(req);
      if (raw === null) {
        return failure(413, "PAYLOAD_TOO_LARGE", `body over ${MAX_BODY_BYTES} bytes`);
      }
      const args = parseArgs(raw, route, user.sub);
      if (args instanceof Response) return args;
      const result = await db.rpc(route.rpc, args, user.token);
      if (route.withInvite && result.ok && isObject(result.data) && isObject(result.data.room)) {
        const invite = await db.rpc("rotate_invite", { p_room_id: result.data.room.room_id }, user.token);
        if (!invite.ok || !isObject(invite.data)) return fromRpc(invite, "rotate_invite", logError);
        result.data.invite_secret = invite.data.invite_secret;
      }
      return fromRpc(result, route.rpc, logError);
    } catch (err) {
      logError(`watchparty function ${name}: unexpected failure`, err);
      return failure(500, "INTERNAL", "internal error");
    }
  };
}

/** Reads the body, or returns null when it is over {@link MAX_BODY_BYTES}. */
async function readBody(req: Request): Promise<Uint8Array | null> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) {
    await req.body?.cancel();
    return null;
  }
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/**
 * The bearer token when it looks like a live user access token: a JWT whose claims say
 * role "authenticated", with a `sub` and a future `exp`. Returns null otherwise (none, the anon
 * key, expired, malformed). The signature is not checked here: PostgREST checks it on the RPC, and
 * a bad one comes back as 401 too. The early check only makes the common refusals cheap and gives
 * them the same order as the embedded server's.
 */
function bearerUser(req: Request, nowMs: number): { token: string; sub: string } | null {
  const match = /^bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "");
  if (!match) return null;
  const token = match[1];
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  let claims: unknown;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0)),
    );
    claims = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(claims)) return null;
  const { role, sub, exp } = claims;
  if (role !== "authenticated" || typeof sub !== "string" || sub === "") return null;
  if (typeof exp !== "number" || exp * 1000 <= nowMs) return null;
  return { token, sub };
}

/**
 * The SQL function's arguments from a JSON body, or the error reply. A body user_id must be the
 * token's sub (USER_MISMATCH); the SQL function checks it again against the verified token.
 */
function parseArgs(raw: Uint8Array, route: Route, sub: string): Record<string, unknown> | Response {
  const invalid = (message: string) => failure(400, "INVALID_REQUEST", message);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    return invalid("body is not valid JSON");
  }
  if (!isObject(body)) return invalid("body must be a JSON object");
  const args: Record<string, unknown> = {};
  const userId = body.user_id;
  if (userId !== undefined && userId !== null) {
    if (typeof userId !== "string") return invalid("user_id must be a string");
    if (userId !== sub) return failure(403, "USER_MISMATCH", "user_id is not the caller");
    args.p_user_id = userId;
  }
  for (const field of route.fields) {
    const value = body[field.key];
    if (value === undefined || value === null) {
      if (field.required) return invalid(`${field.key} is required`);
      continue;
    }
    if (!hasType(value, field.type)) return invalid(field.invalid ?? `${field.key} must be ${article(field.type)}`);
    // An id with U+0000 is no id (stripping it, as for text below, could make a valid one).
    if (field.invalid && typeof value === "string" && value.includes("\u0000")) return invalid(field.invalid);
    // PostgreSQL text cannot hold U+0000; the SQL functions drop control characters anyway.
    args[field.arg] = typeof value === "string"
      ? value.replaceAll("\u0000", "")
      : field.type === "id"
      ? String(value)
      : value;
  }
  return args;
}

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "id":
      return typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value) && Math.abs(value) <= 2147483647;
    case "boolean":
      return typeof value === "boolean";
    case "strings":
      // A list of ids; PostgreSQL's jsonb cannot hold U+0000, and no id has one.
      return Array.isArray(value) && value.every((v) => typeof v === "string" && !v.includes("\u0000"));
  }
}

function article(type: FieldType): string {
  if (type === "integer") return "an integer";
  if (type === "id") return "a string or a number";
  return `a ${type}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The reply for an RPC result: our SQL errors keep their status and code; a refused token is
 * UNAUTHORIZED; anything else is logged and INTERNAL. */
function fromRpc(
  result: RpcResult,
  fn: string,
  logError: (message: string, cause?: unknown) => void,
): Response {
  if (result.ok) {
    if (!isObject(result.data)) {
      logError(`watchparty function: ${fn} returned no object`, result.data);
      return failure(500, "INTERNAL", "internal error");
    }
    if (Array.isArray(result.data.not_ready)) return notReady(result.data);
    return json(200, { success: true, data: result.data });
  }
  const { status, error } = result;
  const pt = /^PT([1-5]\d\d)$/.exec(error.code);
  if (pt && error.details !== null && contractCodes.has(error.details)) {
    return failure(Number(pt[1]), error.details, error.message);
  }
  // PGRST301/PGRST303: bad or expired JWT; 42501 as anon: no privilege without a user.
  if (status === 401) {
    return failure(401, "UNAUTHORIZED", "a valid user access token is required");
  }
  logError(`watchparty function: ${fn} failed with status ${status}`, error);
  return failure(500, "INTERNAL", "internal error");
}

/**
 * A play that the ready check held (control_room's reply with not_ready): 409 NOT_READY, naming
 * who is not ready, as the embedded server words it. The pending start is stored: the SQL function
 * returned rather than raised, so that its transaction commits.
 */
function notReady(data: Record<string, unknown>): Response {
  const list = (data.not_ready as unknown[]).filter(isObject);
  const count = typeof data.not_ready_count === "number" ? data.not_ready_count : list.length;
  const names = list.slice(0, 5).map((m) => String(m.username ?? ""));
  if (count > 5) names.push("…");
  const message = `${count} not ready (${names.join(", ")}): play with force to start anyway`;
  return json(409, {
    success: false,
    error: { code: "NOT_READY", message, not_ready: list, not_ready_count: count },
  });
}

function failure(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { success: false, error: { code, message } }, headers);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}
