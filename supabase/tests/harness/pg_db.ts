/**
 * An injected database adapter for tests: the SQL functions called straight through MiniPostgrest
 * (same role switch, claims and error rules as PostgREST), without HTTP or supabase-js.
 */
import type { RoomsDb, RpcResult } from "../../functions/_shared/db.ts";
import type { MiniPostgrest } from "./postgrest.ts";

/** A {@link RoomsDb} over a MiniPostgrest. Safe for concurrent use. */
export function pgDb(rest: MiniPostgrest): RoomsDb {
  return {
    async rpc(fn, args, accessToken): Promise<RpcResult> {
      const answer = await rest.rpc(fn, args, `Bearer ${accessToken}`);
      if (answer.status >= 200 && answer.status < 300) {
        return { ok: true, data: answer.body === undefined ? null : JSON.parse(answer.body) };
      }
      return { ok: false, status: answer.status, error: JSON.parse(answer.body!) };
    },
  };
}
