/** Minimal assertions (the standard library's live on a registry these tests cannot reach). */

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/** Throws unless cond is true. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Throws unless a and b are equal as JSON values. */
export function assertEquals(a: unknown, b: unknown, msg = ""): void {
  if (show(a) !== show(b)) throw new Error(`${msg ? msg + ": " : ""}got ${show(a)}, want ${show(b)}`);
}

/** Throws unless s matches re. */
export function assertMatch(s: string, re: RegExp, msg = ""): void {
  if (!re.test(s)) throw new Error(`${msg ? msg + ": " : ""}${show(s)} does not match ${re}`);
}
