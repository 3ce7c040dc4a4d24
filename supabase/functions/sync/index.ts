// Edge Function "sync": the watchparty endpoints under /functions/v1/sync/ (docs/api.md). The logic is
// in ../_shared/handler.ts and, for everything about rooms, in the SQL functions it calls as the
// caller through supabase-js.
import { createHandler } from "../_shared/handler.ts";
import { supabaseDbFromEnv } from "../_shared/supabase_db.ts";

Deno.serve(createHandler("sync", supabaseDbFromEnv()));
