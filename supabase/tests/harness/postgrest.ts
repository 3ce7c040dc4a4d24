/**
 * A minimal PostgREST for the local harness: `POST /rest/v1/rpc/<fn>` and `GET /rest/v1/<table>`
 * with the select/eq/order/limit/offset subset, run as PostgREST runs them — in a transaction,
 * switched to the JWT's role with request.jwt.claims set, so auth.uid() and RLS behave as on a
 * Supabase project. Errors have PostgREST's body and status rules. Test-only.
 */
import type postgres from "npm:postgres@3.4.9";
import type { PostgrestError } from "../../functions/_shared/db.ts";
import { verifyJwt } from "./jwt.ts";

/** An HTTP answer: status and, unless 204, a JSON text. */
export interface Answer {
  status: number;
  body?: string;
}

interface Caller {
  role: string;
  claims: string;
}

interface FunctionInfo {
  names: string[];
  types: string[];
  required: number;
  returnsVoid: boolean;
}

const roles = new Set(["anon", "authenticated", "service_role"]);
const tables = new Set(["rooms", "room_members", "comments", "room_queue"]);

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function errorAnswer(status: number, code: string, message: string, details: string | null = null): Answer {
  const body: PostgrestError = { code, message, details, hint: null };
  return { status, body: JSON.stringify(body) };
}

/** PostgREST's HTTP status for a SQLSTATE (its docs' table, the parts that can occur here). */
export function statusForSqlState(code: string, role: string): number {
  const pt = /^PT([1-5]\d\d)$/.exec(code);
  if (pt) return Number(pt[1]);
  if (code === "P0001") return 400;
  if (code.startsWith("P0")) return 500;
  if (code === "42501") return role === "anon" ? 401 : 403;
  if (code === "42883") return 404;
  if (code === "23505" || code === "23503") return 409;
  if (code.startsWith("08") || code.startsWith("53")) return 503;
  if (code.startsWith("XX") || code.startsWith("58") || code.startsWith("57")) return 500;
  return 400;
}

/** The mini PostgREST. Safe for concurrent use (postgres.js pools connections). */
export class MiniPostgrest {
  #functions = new Map<string, FunctionInfo | null>();

  constructor(private readonly sql: postgres.Sql, private readonly jwtSecret: string) {}

  /** The role and claims of a request's Authorization header (none: anon), or PostgREST's 401. */
  async caller(authorization: string | null): Promise<Caller | Answer> {
    if (!authorization) return { role: "anon", claims: JSON.stringify({ role: "anon" }) };
    const m = /^bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return errorAnswer(401, "PGRST301", "Authorization header is not a bearer token");
    const verified = await verifyJwt(m[1], this.jwtSecret);
    if ("refused" in verified) {
      return verified.refused === "expired"
        ? errorAnswer(401, "PGRST303", "JWT expired")
        : errorAnswer(401, "PGRST301", "JWSError JWSInvalidSignature");
    }
    const role = verified.claims.role;
    if (typeof role !== "string" || !roles.has(role)) {
      return errorAnswer(401, "PGRST301", "JWT role is not allowed");
    }
    return { role, claims: JSON.stringify(verified.claims) };
  }

  async #functionInfo(fn: string): Promise<FunctionInfo | null> {
    if (this.#functions.has(fn)) return this.#functions.get(fn)!;
    const rows = await this.sql`
      select coalesce(p.proargnames, '{}') as names,
             array(select format_type(t, null) from unnest(p.proargtypes) t) as types,
             p.pronargs - p.pronargdefaults as required,
             p.prorettype = 'void'::regtype as returns_void
      from pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.proname = ${fn}`;
    const info = rows.length === 1
      ? {
        names: rows[0].names as string[],
        types: rows[0].types as string[],
        required: Number(rows[0].required),
        returnsVoid: rows[0].returns_void as boolean,
      }
      : null;
    this.#functions.set(fn, info);
    return info;
  }

  async #run(caller: Caller, query: string, params: unknown[]): Promise<Answer | { text: string | null }> {
    try {
      const rows = await this.sql.begin(async (tx) => {
        await tx`select set_config('role', ${caller.role}, true),
                        set_config('request.jwt.claims', ${caller.claims}, true),
                        set_config('timezone', 'UTC', true)`;
        return await tx.unsafe(query, params as postgres.ParameterOrJSON<never>[]);
      });
      return { text: rows.length > 0 ? (rows[0].r as string | null) : null };
    } catch (err) {
      const e = err as { code?: string; message?: string; detail?: string; hint?: string };
      if (typeof e.code !== "string" || !/^[0-9A-Z]{5}$/.test(e.code)) throw err;
      const body: PostgrestError = {
        code: e.code,
        message: e.message ?? "",
        details: e.detail ?? null,
        hint: e.hint ?? null,
      };
      return { status: statusForSqlState(e.code, caller.role), body: JSON.stringify(body) };
    }
  }

  /** POST /rest/v1/rpc/<fn> with a JSON object body, as the caller. */
  async rpc(fn: string, body: unknown, authorization: string | null): Promise<Answer> {
    const caller = await this.caller(authorization);
    if ("status" in caller) return caller;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return errorAnswer(400, "PGRST102", "Invalid body, expected a JSON object");
    }
    const info = /^[a-z_][a-z0-9_]*$/.test(fn) ? await this.#functionInfo(fn) : null;
    const given = Object.keys(body);
    const missing = info?.names.slice(0, info.required).filter((n) => !given.includes(n)) ?? [];
    if (!info || given.some((k) => !info.names.includes(k)) || missing.length > 0) {
      return errorAnswer(
        404,
        "PGRST202",
        `Could not find the function public.${fn}(${given.join(", ")}) in the schema cache`,
      );
    }
    const columns = given.map((k) => `${quoteIdent(k)} ${info.types[info.names.indexOf(k)]}`).join(", ");
    const call = `public.${quoteIdent(fn)}(${given.map((k) => `${quoteIdent(k)} := a.${quoteIdent(k)}`).join(", ")})`;
    const result = info.returnsVoid ? `${call}` : `${call}::text`;
    const query = given.length > 0
      ? `select ${result} as r from json_to_record($1::text::json) as a(${columns})`
      : `select ${result} as r`;
    const out = await this.#run(caller, query, given.length > 0 ? [JSON.stringify(body)] : []);
    if ("status" in out) return out;
    if (info.returnsVoid) return { status: 204 };
    return { status: 200, body: out.text ?? "null" };
  }

  /** GET /rest/v1/<table>?select=…&<col>=eq.<v>&order=<col>.asc|desc&limit=&offset=, as the caller. */
  async select(table: string, params: URLSearchParams, authorization: string | null): Promise<Answer> {
    const caller = await this.caller(authorization);
    if ("status" in caller) return caller;
    if (!tables.has(table)) {
      return errorAnswer(404, "PGRST205", `Could not find the table 'public.${table}' in the schema cache`);
    }
    const cols = await this.sql`
      select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = ${"public." + table}::regclass and attnum > 0 and not attisdropped`;
    const types = new Map(cols.map((c) => [c.name as string, c.type as string]));
    const column = (name: string): string | Answer =>
      types.has(name) ? quoteIdent(name) : errorAnswer(400, "42703", `column ${table}.${name} does not exist`);

    let select = "*";
    const where: string[] = [];
    const values: string[] = [];
    let order = "";
    let limit = "";
    let offset = "";
    const ops: Record<string, string> = { eq: "=", neq: "<>", lt: "<", lte: "<=", gt: ">", gte: ">=" };
    for (const [key, value] of params) {
      if (key === "select") {
        const names = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
        if (names.length === 0 || names.includes("*")) continue;
        const quoted = names.map(column);
        const bad = quoted.find((q) => typeof q !== "string");
        if (bad) return bad as Answer;
        select = quoted.join(", ");
      } else if (key === "order") {
        const terms: string[] = [];
        for (const term of value.split(",")) {
          const [name, ...mods] = term.trim().split(".");
          const q = column(name);
          if (typeof q !== "string") return q;
          const dir = mods.includes("desc") ? "desc" : "asc";
          const nulls = mods.includes("nullsfirst") ? " nulls first" : mods.includes("nullslast") ? " nulls last" : "";
          terms.push(`${q} ${dir}${nulls}`);
        }
        order = ` order by ${terms.join(", ")}`;
      } else if (key === "limit" || key === "offset") {
        if (!/^\d+$/.test(value)) return errorAnswer(400, "PGRST100", `"${value}" is not a valid ${key}`);
        if (key === "limit") limit = ` limit ${value}`;
        else offset = ` offset ${value}`;
      } else {
        const dot = value.indexOf(".");
        const op = dot > 0 ? ops[value.slice(0, dot)] : undefined;
        if (!op) return errorAnswer(400, "PGRST100", `failed to parse filter (${value})`);
        const q = column(key);
        if (typeof q !== "string") return q;
        values.push(value.slice(dot + 1));
        where.push(`${q} ${op} $${values.length}::${types.get(key)}`);
      }
    }
    const query = `select coalesce(json_agg(t), '[]')::text as r from (select ${select} from public.${
      quoteIdent(table)
    }${where.length ? " where " + where.join(" and ") : ""}${order}${limit}${offset}) t`;
    const out = await this.#run(caller, query, values);
    if ("status" in out) return out;
    return { status: 200, body: out.text ?? "[]" };
  }
}
