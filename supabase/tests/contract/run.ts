/**
 * The contract runner: plays the shared request/response cases (cases.json) against any backend
 * that serves docs/api.md — the Supabase deployment (or its local harness) and `watchparty serve`
 * — so the two cannot drift apart.
 *
 *   deno run --allow-net --allow-read contract/run.ts --url http://127.0.0.1:54321 --anon-key KEY
 *     [--cases contract/cases.json] [--label NAME] [--only SUBSTRING] [--skip SUBSTRING] [--verbose]
 *
 * --only runs the cases whose name contains SUBSTRING, --skip leaves them out. Cases named
 * `liveness: …` expect a backend whose liveness is quick (stale after 1 s, gone after 2 s: see
 * tests/run.sh); run them on such a backend with --only liveness:, and skip them elsewhere.
 *
 * Users come from the backend itself: alice, bob and carol sign up anonymously
 * (POST /auth/v1/signup) once per run; every case makes its own rooms. Any other name a case uses
 * in `as` (dave, erin, …) is a user of that case alone, signed up when the case starts. The
 * backends limit rooms created (10 a minute per user) and joins and leaves (20 a minute per user,
 * docs/security.md); before a case would take alice, bob or carol past a limit, counting every
 * such request of the last minute, that name signs up again as a new user.
 *
 * Case format (cases.json): {"cases":[{"name", "steps":[step…]}]}, where a step is either
 *   {"sleep_ms": n}: waits n ms (liveness cases only: time passing is what they test), or a request:
 *   as        alice | bob | carol (their access token), anon (the anon key as bearer, like
 *             supabase-js without a session), none (no Authorization), forged (alice's token with
 *             a broken signature), garbage (a bearer that is no JWT)
 *   method    default POST
 *   path      e.g. /functions/v1/rooms/join, /rest/v1/rpc/get_room_sync_state, /rest/v1/comments?…
 *   body      JSON; raw_body: a string sent as is; body_fill: {"field","length","prefix"?} adds a
 *             string of that many characters to body: the prefix, then "x" (size limits)
 *   repeat    send the step n times; each reply must meet expect
 *   expect    status; success (body.success); error_code (error.code of a function reply, code
 *             of a PostgREST reply); fields: {"<path>": expected}
 *   capture   {"<name>": "<path>"}: keep a reply value as {{name}} for later steps of the case
 *
 * Paths are dotted from the reply body's root: data.room.is_playing, data.members.0.role,
 * data.members.length. An expected value is matched by deep equality, or by a matcher object:
 * {"$match": regex}, {"$type": "string"|"number"|"boolean"|"null"|"array"|"object"},
 * {"$approx": [value, tolerance]}, {"$absent": true}.
 * Strings in steps may hold {{alice.id}}, {{bob.id}}, {{carol.id}}, {{now_ms}} and captured names;
 * a string that is exactly "{{name}}" takes the value's own JSON type.
 *
 * Prints one line per case and closes with "N passed, N failed"; exits 1 on any failure.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface SleepStep {
  sleep_ms: number;
}

interface Step {
  as?: string;
  method?: string;
  path: string;
  body?: Json;
  raw_body?: string;
  body_fill?: { field: string; length: number; prefix?: string };
  headers?: Record<string, string>;
  repeat?: number;
  expect: {
    status: number;
    success?: boolean;
    error_code?: string;
    fields?: Record<string, Json>;
  };
  capture?: Record<string, string>;
}

interface Case {
  name: string;
  steps: (Step | SleepStep)[];
}

function isSleep(step: Step | SleepStep): step is SleepStep {
  return "sleep_ms" in step;
}

interface User {
  id: string;
  token: string;
}

function parseArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else if (a === "--verbose") out.verbose = "1";
    else out[a.slice(2)] = args[++i] ?? "";
  }
  return out;
}

/** Replaces {{name}} placeholders in every string of a JSON value. */
function fill(value: Json | undefined, vars: Map<string, Json>): Json | undefined {
  if (typeof value === "string") {
    const whole = /^\{\{([\w.]+)\}\}$/.exec(value);
    if (whole) return lookupVar(whole[1], vars);
    return value.replace(/\{\{([\w.]+)\}\}/g, (_, name) => String(lookupVar(name, vars)));
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars) as Json);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars) as Json]));
  }
  return value;
}

function lookupVar(name: string, vars: Map<string, Json>): Json {
  if (name === "now_ms") return Date.now();
  if (!vars.has(name)) throw new Error(`unknown placeholder {{${name}}}`);
  return vars.get(name)!;
}

const absent = Symbol("absent");

function pick(body: unknown, path: string): unknown {
  let at: unknown = body;
  for (const seg of path === "" ? [] : path.split(".")) {
    if (Array.isArray(at) && seg === "length") at = at.length;
    else if (Array.isArray(at) && /^\d+$/.test(seg)) at = Number(seg) < at.length ? at[Number(seg)] : absent;
    else if (at && typeof at === "object" && !Array.isArray(at) && seg in at) {
      at = (at as Record<string, unknown>)[seg];
    } else return absent;
  }
  return at;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object), kb = Object.keys(b as object);
  return ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Why got does not meet want, or null when it does. */
function mismatch(got: unknown, want: Json): string | null {
  const show = (v: unknown) => v === absent ? "(absent)" : JSON.stringify(v);
  if (want && typeof want === "object" && !Array.isArray(want)) {
    const keys = Object.keys(want);
    if (keys.length === 1 && keys[0].startsWith("$")) {
      const arg = want[keys[0]];
      switch (keys[0]) {
        case "$match":
          return typeof got === "string" && new RegExp(String(arg)).test(got)
            ? null
            : `${show(got)} does not match /${arg}/`;
        case "$type":
          return got !== absent && typeName(got) === arg ? null : `${show(got)} is not of type ${arg}`;
        case "$approx": {
          const [value, tolerance] = arg as number[];
          return typeof got === "number" && Math.abs(got - value) <= tolerance
            ? null
            : `${show(got)} is not within ${tolerance} of ${value}`;
        }
        case "$absent":
          return got === absent ? null : `${show(got)} is present`;
        default:
          return `unknown matcher ${keys[0]}`;
      }
    }
  }
  return got !== absent && deepEqual(got, want) ? null : `got ${show(got)}, want ${JSON.stringify(want)}`;
}

/** The per-user rate limits of docs/security.md that the cases' own requests meet. */
const budgets = [
  { limit: 10, matches: (path: string) => /^\/functions\/v1\/rooms\/create$/.test(path) },
  { limit: 20, matches: (path: string) => /^\/functions\/v1\/rooms\/(join|leave)$/.test(path) },
];
/** The limits' window, with a margin for clocks and slow replies. */
const budgetWindowMs = 65_000;
/** The users every case may use; other names in `as` are signed up for one case. */
const sharedUsers = ["alice", "bob", "carol"];
/** Values of `as` that are no user. */
const notUsers = new Set(["none", "anon", "garbage", "forged"]);

class Runner {
  users = new Map<string, User>();
  /** Per shared user and budget, when its requests were sent (ms). */
  sent = new Map<string, number[][]>();
  signups = 0;

  constructor(readonly url: string, readonly anonKey: string, readonly verbose: boolean) {}

  /** Signs `name` up as a new user, with no requests counted against it. */
  async renew(name: string): Promise<void> {
    this.users.set(name, await this.signup(name));
    this.sent.set(name, budgets.map(() => []));
    this.signups++;
  }

  /** Before a case: new users for its own names, and for shared names whose budget it would
   * exceed. */
  async prepare(c: Case): Promise<void> {
    const demand = new Map<string, number[]>();
    for (const step of c.steps) {
      if (isSleep(step)) continue;
      const name = step.as ?? "alice";
      if (notUsers.has(name)) continue;
      const d = demand.get(name) ?? budgets.map(() => 0);
      budgets.forEach((b, i) => {
        if (b.matches(step.path)) d[i] += step.repeat ?? 1;
      });
      demand.set(name, d);
    }
    const since = Date.now() - budgetWindowMs;
    for (const [name, d] of demand) {
      if (!sharedUsers.includes(name)) {
        await this.renew(name);
        continue;
      }
      const sent = this.sent.get(name)!;
      if (budgets.some((b, i) => d[i] > 0 && sent[i].filter((t) => t > since).length + d[i] > b.limit)) {
        if (this.verbose) console.error(`  (${name} signs up again: the case would pass a rate limit)`);
        await this.renew(name);
      }
    }
  }

  /** Counts a request against the budgets of a shared user. */
  count(as: string | undefined, path: string): void {
    const sent = this.sent.get(as ?? "alice");
    if (!sent) return;
    budgets.forEach((b, i) => {
      if (b.matches(path)) sent[i].push(Date.now());
    });
  }

  async signup(name: string): Promise<User> {
    const res = await fetch(`${this.url}/auth/v1/signup`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json;charset=UTF-8",
        apikey: this.anonKey,
        Authorization: `Bearer ${this.anonKey}`,
        "X-Supabase-Api-Version": "2024-01-01",
      },
      body: JSON.stringify({ data: {}, gotrue_meta_security: {} }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`signup of ${name}: status ${res.status}: ${text}`);
    const body = JSON.parse(text);
    if (typeof body.access_token !== "string" || typeof body.user?.id !== "string") {
      throw new Error(`signup of ${name}: no access_token or user.id in ${text}`);
    }
    return { id: body.user.id, token: body.access_token };
  }

  authorization(as: string | undefined): string | null {
    switch (as ?? "alice") {
      case "none":
        return null;
      case "anon":
        return `Bearer ${this.anonKey}`;
      case "garbage":
        return "Bearer not-a-jwt";
      case "forged": {
        const [h, p, s] = this.users.get("alice")!.token.split(".");
        const flipped = (s[0] === "A" ? "B" : "A") + s.slice(1);
        return `Bearer ${h}.${p}.${flipped}`;
      }
      default: {
        const user = this.users.get(as!);
        if (!user) throw new Error(`unknown user ${as}`);
        return `Bearer ${user.token}`;
      }
    }
  }

  /** Runs one step; returns the failures (empty when it passed). */
  async step(step: Step, vars: Map<string, Json>): Promise<string[]> {
    const path = fill(step.path, vars) as string;
    const method = step.method ?? "POST";
    const headers: Record<string, string> = { apikey: this.anonKey, ...(step.headers ?? {}) };
    const auth = this.authorization(step.as);
    if (auth) headers.Authorization = auth;
    let payload: string | undefined;
    if (step.raw_body !== undefined) payload = step.raw_body;
    else if (step.body !== undefined || step.body_fill) {
      const body = (fill(step.body ?? {}, vars) ?? {}) as Record<string, Json>;
      if (step.body_fill) {
        const prefix = step.body_fill.prefix ?? "";
        body[step.body_fill.field] = prefix + "x".repeat(step.body_fill.length - prefix.length);
      }
      payload = JSON.stringify(body);
    }
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    if (path.startsWith("/rest/")) headers[method === "GET" ? "Accept-Profile" : "Content-Profile"] = "public";

    this.count(step.as, step.path);
    const res = await fetch(this.url + path, { method, headers, body: method === "GET" ? undefined : payload });
    const text = await res.text();
    let body: unknown = absent;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (this.verbose) console.error(`  ${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);

    const want = step.expect;
    const problems: string[] = [];
    const where = `${method} ${path}`;
    if (res.status !== want.status) {
      problems.push(`${where}: status ${res.status}, want ${want.status}; body ${text.slice(0, 300)}`);
    }
    if (want.success !== undefined) {
      const why = mismatch(pick(body, "success"), want.success);
      if (why) problems.push(`${where}: success: ${why}`);
    }
    if (want.error_code !== undefined) {
      const codePath = path.startsWith("/functions/") ? "error.code" : "code";
      const why = mismatch(pick(body, codePath), want.error_code);
      if (why) problems.push(`${where}: ${codePath}: ${why}`);
    }
    for (const [fieldPath, expected] of Object.entries(want.fields ?? {})) {
      const why = mismatch(pick(body, fieldPath), fill(expected, vars) as Json);
      if (why) problems.push(`${where}: ${fieldPath}: ${why}`);
    }
    if (problems.length === 0) {
      for (const [name, fieldPath] of Object.entries(step.capture ?? {})) {
        const value = pick(body, fieldPath);
        if (value === absent) problems.push(`${where}: nothing at ${fieldPath} to capture as ${name}`);
        else vars.set(name, value as Json);
      }
    }
    return problems;
  }

  async runCase(c: Case): Promise<string[]> {
    try {
      await this.prepare(c);
    } catch (err) {
      return [`signing up the case's users: ${err instanceof Error ? err.message : String(err)}`];
    }
    const vars = new Map<string, Json>();
    for (const [name, user] of this.users) vars.set(`${name}.id`, user.id);
    for (const [i, step] of c.steps.entries()) {
      if (isSleep(step)) {
        await new Promise((resolve) => setTimeout(resolve, step.sleep_ms));
        continue;
      }
      for (let n = 0; n < (step.repeat ?? 1); n++) {
        let problems: string[];
        try {
          problems = await this.step(step, vars);
        } catch (err) {
          problems = [`${err instanceof Error ? err.message : String(err)}`];
        }
        if (problems.length > 0) {
          const rep = (step.repeat ?? 1) > 1 ? ` (repeat ${n + 1}/${step.repeat})` : "";
          return problems.map((p) => `step ${i + 1}${rep}: ${p}`);
        }
      }
    }
    return [];
  }
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  const url = (args.url ?? "").replace(/\/+$/, "");
  const anonKey = args["anon-key"] ?? "";
  if (!url || !anonKey) {
    console.error(
      "usage: run.ts --url URL --anon-key KEY [--cases FILE] [--label NAME] [--only SUBSTRING] [--skip SUBSTRING] [--verbose]",
    );
    return 2;
  }
  const casesPath = args.cases ?? new URL("./cases.json", import.meta.url).pathname;
  const cases = (JSON.parse(await Deno.readTextFile(casesPath)) as { cases: Case[] }).cases
    .filter((c) => !args.only || c.name.includes(args.only))
    .filter((c) => !args.skip || !c.name.includes(args.skip));
  const label = args.label ?? url;

  const runner = new Runner(url, anonKey, args.verbose === "1");
  for (const name of sharedUsers) await runner.renew(name);

  let passed = 0, failed = 0;
  console.log(`contract cases against ${label}`);
  for (const c of cases) {
    const problems = await runner.runCase(c);
    if (problems.length === 0) {
      passed++;
      console.log(`ok   ${c.name}`);
    } else {
      failed++;
      console.log(`FAIL ${c.name}`);
      for (const p of problems) console.log(`       ${p}`);
    }
  }
  console.log(`contract: ${passed} passed, ${failed} failed (${runner.signups} sign-ups)`);
  return failed === 0 ? 0 : 1;
}

Deno.exit(await main());
