#!/usr/bin/env bash
# Interop suite: builds watchparty, starts `watchparty serve` on a free loopback port with a
# throw-away data directory, and drives it with the real supabase-js under `node --test`.
# Exits non-zero if the server does not start or any test fails.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "interop: node and npm are missing; installing them with apt-get (nodejs npm)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# npm ci when node_modules is missing or was installed from another lock file.
if ! cmp -s package-lock.json node_modules/.installed-lock.json; then
  echo "interop: installing the pinned npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock.json
fi

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "interop: building watchparty"
(cd .. && go build -o "$tmp/watchparty" ./cmd/watchparty)

# A free port: bind port 0, read what the kernel chose, release it. Another process could take
# it in between; the start-up check below then fails loudly instead of testing the wrong server.
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

"$tmp/watchparty" serve --listen "127.0.0.1:$port" --data "$tmp/data" >"$tmp/stdout" 2>"$tmp/stderr" &
server_pid=$!

url="" key=""
for _ in $(seq 1 200); do # up to 10 s
  url=$(sed -n 's/^watchparty server listening on \(http[^ ]*\)$/\1/p' "$tmp/stdout" | head -1)
  key=$(sed -n 's/^anon key: \(.*\)$/\1/p' "$tmp/stdout" | head -1)
  [ -n "$url" ] && [ -n "$key" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.05
done
if [ -z "$url" ] || [ -z "$key" ]; then
  echo "interop: the server did not start" >&2
  cat "$tmp/stdout" "$tmp/stderr" >&2
  exit 1
fi
echo "interop: server at $url"

status=0
WATCHPARTY_URL="$url" WATCHPARTY_ANON_KEY="$key" \
  node --test --test-force-exit --test-timeout=60000 "$here"/*.test.mjs || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "interop: the server died during the tests" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "interop: server log:" >&2
  tail -n 50 "$tmp/stderr" >&2
fi
exit "$status"
