/**
 * The production database adapter: supabase-js, as the caller. The caller's access token goes to
 * PostgREST, which verifies it, switches to its role and sets request.jwt.claims, so auth.uid()
 * in the SQL functions is the caller and RLS applies exactly as for the client itself.
 */
import { createClient } from "npm:@supabase/supabase-js@2.119.0";
import type { RoomsDb, RpcResult } from "./db.ts";

/** A {@link RoomsDb} that calls `<url>/rest/v1/rpc/<fn>` with `apikey` and the caller's token. */
export function supabaseDb(url: string, apiKey: string): RoomsDb {
  return {
    async rpc(fn, args, accessToken): Promise<RpcResult> {
      // One client per call: the token is the caller's, and nothing may leak between requests.
      const client = createClient(url, apiKey, {
        global: { headers: { Authorization: `Bearer ${accessToken}` } },
        auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      });
      const { data, error, status } = await client.rpc(fn, args);
      if (error) {
        return {
          ok: false,
          status,
          error: {
            code: error.code ?? "",
            message: error.message ?? "",
            details: error.details ?? null,
            hint: error.hint ?? null,
          },
        };
      }
      return { ok: true, data };
    },
  };
}

/** The adapter for a deployed function: Supabase sets SUPABASE_URL and SUPABASE_ANON_KEY. */
export function supabaseDbFromEnv(): RoomsDb {
  const url = Deno.env.get("SUPABASE_URL");
  const key = Deno.env.get("SUPABASE_ANON_KEY");
  if (!url || !key) {
    throw new Error("SUPABASE_URL and SUPABASE_ANON_KEY must be set");
  }
  return supabaseDb(url, key);
}
