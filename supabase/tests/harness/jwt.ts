/** HS256 JWTs for the local harness: what GoTrue mints and PostgREST verifies on a Supabase project. */

const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0));
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

/** Signs claims as an HS256 JWT. */
export async function signJwt(claims: Record<string, unknown>, secret: string): Promise<string> {
  const head = b64url(enc.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = b64url(enc.encode(JSON.stringify(claims)));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(`${head}.${body}`));
  return `${head}.${body}.${b64url(new Uint8Array(sig))}`;
}

/** The outcome of verifying a token: its claims, or why it was refused. */
export type Verified = { claims: Record<string, unknown> } | { refused: "invalid" | "expired" };

/** Verifies an HS256 JWT's signature and `exp` (as PostgREST does). */
export async function verifyJwt(token: string, secret: string, nowMs = Date.now()): Promise<Verified> {
  const parts = token.split(".");
  if (parts.length !== 3) return { refused: "invalid" };
  try {
    const header = JSON.parse(new TextDecoder().decode(unb64url(parts[0])));
    if (header.alg !== "HS256") return { refused: "invalid" };
    const ok = await crypto.subtle.verify(
      "HMAC",
      await hmacKey(secret),
      unb64url(parts[2]),
      enc.encode(`${parts[0]}.${parts[1]}`),
    );
    if (!ok) return { refused: "invalid" };
    const claims = JSON.parse(new TextDecoder().decode(unb64url(parts[1])));
    if (typeof claims !== "object" || claims === null) return { refused: "invalid" };
    if (typeof claims.exp === "number" && claims.exp * 1000 <= nowMs) return { refused: "expired" };
    return { claims };
  } catch {
    return { refused: "invalid" };
  }
}
