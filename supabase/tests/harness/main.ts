/**
 * Runs the local harness until killed, and prints one JSON line, {"url":…,"anon_key":…}, for
 * tests/run.sh and the contract runner.
 */
import { connect } from "./db.ts";
import { startHarness } from "./server.ts";

const sql = connect();
const harness = await startHarness({ sql });
console.log(JSON.stringify({ url: harness.url, anon_key: harness.anonKey }));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    await harness.close();
    await sql.end({ timeout: 1 });
    Deno.exit(0);
  });
}
