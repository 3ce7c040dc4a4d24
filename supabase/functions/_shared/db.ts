/**
 * The database port of the Edge Functions: they call the room SQL functions (supabase/migrations)
 * as the caller, and nothing else. Production uses {@link ./supabase_db.ts} (supabase-js through
 * PostgREST, which checks the JWT and applies role and RLS); tests inject their own.
 */

/** A PostgREST error body. `details` carries the contract's error code for our PTxyz errors. */
export interface PostgrestError {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

/** The outcome of one RPC: the function's JSON result, or PostgREST's error with its HTTP status
 * (status 0 when the database could not be reached at all). */
export type RpcResult =
  | { ok: true; data: unknown }
  | { ok: false; status: number; error: PostgrestError };

/** Calls SQL functions as the user whose access token is given. Implementations must be safe for
 * concurrent use: one handler serves many requests at once. */
export interface RoomsDb {
  rpc(fn: string, args: Record<string, unknown>, accessToken: string): Promise<RpcResult>;
}
