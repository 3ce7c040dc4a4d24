/** The test database connection: the throwaway cluster that tests/run.sh started (PG* env). */
import postgres from "npm:postgres@3.4.9";

/** Connects as the cluster's superuser over its unix socket (PGHOST is the socket directory). */
export function connect(): postgres.Sql {
  const host = Deno.env.get("PGHOST");
  const port = Deno.env.get("PGPORT") ?? "5432";
  if (!host) throw new Error("PGHOST is not set: run these tests through supabase/tests/run.sh");
  return postgres({
    path: host.startsWith("/") ? `${host}/.s.PGSQL.${port}` : undefined,
    host: host.startsWith("/") ? undefined : host,
    port: Number(port),
    user: Deno.env.get("PGUSER") ?? "postgres",
    database: Deno.env.get("PGDATABASE") ?? "postgres",
    max: 4,
    onnotice: () => {},
  });
}
