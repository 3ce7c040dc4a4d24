#!/usr/bin/env bash
# Tests of supabase/: one entry point.
#
#   1. starts a throwaway PostgreSQL cluster (15 preferred) in a temp dir, as an unprivileged user
#      when run as root (PostgreSQL refuses root);
#   2. applies the stub of Supabase's built-ins (tests/sql/supabase_stub.sql), then every migration;
#   3. runs the SQL tests (tests/sql/*_test.sql), and the upgrade tests (tests/sql/upgrade/), each
#      on a database that has the migrations before the one it tests;
#   4. type-checks, lints and format-checks the TypeScript, then runs the Deno tests of the Edge
#      Functions (tests/functions/*_test.ts);
#   5. serves the Edge Functions locally (tests/harness/) and runs the shared contract cases
#      (tests/contract/cases.json) against them; then the `liveness:` cases, which need quick
#      liveness, after setting stale_after 1 s and gone_after 2 s in watchparty_private.liveness;
#   6. with WATCHPARTY_BIN=<path to a built watchparty binary>, also runs the same cases against
#      `watchparty serve`, and the `liveness:` cases against a second
#      `watchparty serve --stale-after 1s --gone-after 2s`;
#   7. cleans up, and exits non-zero on any failure.
#
# Needs: the PostgreSQL server programs (Debian: postgresql-15, which also brings psql), node and
# npm. Installs nothing but the npm packages of tests/package.json into tests/node_modules.
# PG_BINDIR overrides where initdb/pg_ctl are looked for.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
supabase_dir="$(dirname "$here")"
started=$(date +%s)

log() { printf '%s\n' "run.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# --- tools -------------------------------------------------------------------------------------

find_pg_bindir() {
	if [[ -n "${PG_BINDIR:-}" ]]; then
		echo "$PG_BINDIR"
		return
	fi
	local dir best=""
	# Debian keeps initdb/pg_ctl in a versioned library folder; prefer 15 (Supabase's major), else
	# the newest found.
	for dir in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
		[[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] || continue
		if [[ "$dir" == */postgresql/15/bin ]]; then
			echo "$dir"
			return
		fi
		best="$dir"
	done
	if [[ -z "$best" ]] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
		best="$(dirname "$(command -v initdb)")"
	fi
	[[ -n "$best" ]] || die "no PostgreSQL server programs found (Debian: apt-get install postgresql-15)"
	echo "$best"
}

pg_bindir="$(find_pg_bindir)"
psql_bin="$pg_bindir/psql"
[[ -x "$psql_bin" ]] || psql_bin="$(command -v psql)" || die "psql not found"
command -v npm >/dev/null || die "npm not found (Debian: apt-get install nodejs npm)"

if [[ ! -x "$here/node_modules/.bin/deno" ]] || [[ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
	log "installing test tools with npm ci"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
deno="$here/node_modules/.bin/deno"
export DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
"$deno" --version | head -1 >&2

# --- cluster -----------------------------------------------------------------------------------

work="$(mktemp -d)"
pg_user="$(id -un)"
as_pg=()
if [[ "$(id -u)" == 0 ]]; then
	pg_user=postgres
	id "$pg_user" >/dev/null 2>&1 || die "running as root needs the unprivileged user 'postgres' (created by Debian's postgresql package)"
	as_pg=(runuser -u "$pg_user" --)
	chown "$pg_user" "$work"
fi
chmod 755 "$work"

pids=()
cleanup() {
	local status=$?
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -f "$work/data/postmaster.pid" ]]; then
		"${as_pg[@]}" "$pg_bindir/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=5432 # the socket lives in our own directory, so the port cannot clash
log "starting PostgreSQL from $pg_bindir in a temp dir"
"${as_pg[@]}" "$pg_bindir/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$work/initdb.log" 2>&1 ||
	{ cat "$work/initdb.log" >&2; die "initdb failed"; }
"${as_pg[@]}" "$pg_bindir/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w -t 60 \
	-o "-c listen_addresses='' -k $work -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=logical" \
	start >/dev/null || { cat "$work/postgres.log" >&2; die "pg_ctl start failed"; }

export PGHOST="$work" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
psql() { "$psql_bin" -X -q -v ON_ERROR_STOP=1 "$@"; }

psql -c 'create database watchparty' >/dev/null
export PGDATABASE=watchparty
log "applying the Supabase stub and the migrations"
psql -f "$here/sql/supabase_stub.sql" >/dev/null
# The stub alone, for the upgrade tests (its roles are the cluster's, created once).
psql -d postgres -c 'create database watchparty_stub template watchparty' >/dev/null
for migration in "$supabase_dir"/migrations/*.sql; do
	psql -f "$migration" >/dev/null || die "migration $(basename "$migration") failed"
done
# A pristine copy for each suite, so one suite's rows never meet another's.
psql -d postgres -c 'create database watchparty_template template watchparty' >/dev/null

fresh_db() { # name
	psql -d postgres -c "create database $1 template watchparty_template" >/dev/null
}

failed=0
summary=()

# --- SQL tests ---------------------------------------------------------------------------------

sql_pass=0 sql_fail=0
for test in "$here"/sql/*_test.sql; do
	name="$(basename "$test" .sql)"
	fresh_db "$name"
	if out="$(psql -d "$name" -f "$here/sql/helpers.sql" -f "$test" 2>&1)"; then
		sql_pass=$((sql_pass + 1))
		printf 'ok   sql/%s\n' "$name"
	else
		sql_fail=$((sql_fail + 1))
		printf 'FAIL sql/%s\n' "$name"
		printf '%s\n' "$out" | grep -E 'ERROR|not ok|CONTEXT|LINE' | sed 's/^/       /' || printf '%s\n' "$out"
	fi
	[[ -z "$out" ]] || printf '%s\n' "$out" | grep '^psql:.*NOTICE:  ok' | sed 's/^.*NOTICE:  /       /' || true
done
# Upgrade tests: sql/upgrade/<migration>_test.sql runs on a database that has only the migrations
# before <migration>, with the path of <migration> in the psql variable :migration, so it can
# store rows the old schema allowed, apply the migration (\i :migration) and check what became
# of them. (Function bodies are not checked at creation there: helpers.sql names newer tables.)
for test in "$here"/sql/upgrade/*_test.sql; do
	[[ -e "$test" ]] || continue
	name="$(basename "$test" _test.sql)"
	migration="$supabase_dir/migrations/$name.sql"
	db="upgrade_$(printf '%s' "$name" | tr -c 'a-z0-9_\n' '_')"
	if [[ ! -f "$migration" ]]; then
		sql_fail=$((sql_fail + 1))
		printf 'FAIL sql/upgrade/%s: no migration %s.sql\n' "$name" "$name"
		continue
	fi
	psql -d postgres -c "create database $db template watchparty_stub" >/dev/null
	for m in "$supabase_dir"/migrations/*.sql; do
		[[ "$(basename "$m")" < "$name.sql" ]] || break
		psql -d "$db" -f "$m" >/dev/null
	done
	if out="$(PGOPTIONS='-c check_function_bodies=off' psql -d "$db" -v migration="$migration" \
		-f "$here/sql/helpers.sql" -f "$test" 2>&1)"; then
		sql_pass=$((sql_pass + 1))
		printf 'ok   sql/upgrade/%s\n' "$name"
	else
		sql_fail=$((sql_fail + 1))
		printf 'FAIL sql/upgrade/%s\n' "$name"
		printf '%s\n' "$out" | grep -E 'ERROR|not ok|CONTEXT|LINE' | sed 's/^/       /' || printf '%s\n' "$out"
	fi
	[[ -z "$out" ]] || printf '%s\n' "$out" | grep '^psql:.*NOTICE:  ok' | sed 's/^.*NOTICE:  /       /' || true
done
summary+=("sql tests: $sql_pass passed, $sql_fail failed (files)")
[[ $sql_fail == 0 ]] || failed=1

# --- Deno tests of the Edge Functions ------------------------------------------------------------

if "$deno" check --config "$here/deno.json" "$supabase_dir"/functions/*/index.ts "$here/contract/run.ts" "$here/harness/main.ts" &&
	"$deno" lint --config "$here/deno.json" "$supabase_dir/functions" "$here/functions" "$here/harness" "$here/contract" &&
	"$deno" fmt --config "$here/deno.json" --check "$supabase_dir/functions" "$here/functions" "$here/harness" "$here/contract/run.ts"; then
	summary+=("deno check, lint, fmt: passed")
else
	summary+=("deno check, lint, fmt: FAILED")
	failed=1
fi

fresh_db functions_test
# Unix-socket connections to the cluster need net, read and write permission on the socket.
deno_flags=(--config "$here/deno.json" --allow-net --allow-env --allow-read --allow-write="$work" --allow-sys)
if PGDATABASE=functions_test "$deno" test "${deno_flags[@]}" "$here/functions/"; then
	summary+=("deno tests: passed")
else
	summary+=("deno tests: FAILED")
	failed=1
fi

# --- contract cases against the local harness --------------------------------------------------

wait_for_line() { # file deadline-seconds → first line
	local file=$1 deadline=$(($(date +%s) + $2))
	until [[ -s "$file" ]] && head -1 "$file" | grep -q '}'; do
		(($(date +%s) < deadline)) || return 1
		sleep 0.1
	done
	head -1 "$file"
}

run_contract() { # label url anon-key [runner flags…]
	if "$deno" run "${deno_flags[@]}" "$here/contract/run.ts" --url "$2" --anon-key "$3" \
		--cases "$here/contract/cases.json" --label "$1" "${@:4}"; then
		summary+=("contract cases against $1: passed")
	else
		summary+=("contract cases against $1: FAILED")
		failed=1
	fi
}

fresh_db contract_test
PGDATABASE=contract_test "$deno" run "${deno_flags[@]}" "$here/harness/main.ts" >"$work/harness.out" 2>"$work/harness.err" &
pids+=($!)
if info="$(wait_for_line "$work/harness.out" 30)"; then
	url="$(printf '%s' "$info" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')"
	key="$(printf '%s' "$info" | sed -n 's/.*"anon_key":"\([^"]*\)".*/\1/p')"
	run_contract "supabase functions (local harness)" "$url" "$key" --skip liveness:
	# The liveness cases wait for a host to go quiet and a member to be gone: seconds, not the
	# deployed 15 s and 45 s.
	PGDATABASE=contract_test psql -c "update watchparty_private.liveness set stale_after = '1 second', gone_after = '2 seconds'" >/dev/null
	run_contract "supabase functions (local harness), liveness 1 s / 2 s" "$url" "$key" --only liveness:
	if [[ -s "$work/harness.err" ]]; then
		log "harness stderr:"
		cat "$work/harness.err" >&2
	fi
else
	cat "$work/harness.err" >&2
	summary+=("contract cases against the local harness: FAILED (harness did not start)")
	failed=1
fi

# --- the same cases against the embedded server ------------------------------------------------

serve_contract() { # name label [runner flags…] -- [serve flags…]
	local name=$1 label=$2 flags=() deadline url="" key=""
	shift 2
	while [[ $# -gt 0 && $1 != -- ]]; do flags+=("$1"); shift; done
	[[ $# -gt 0 ]] && shift
	mkdir -p "$work/$name"
	"$WATCHPARTY_BIN" serve "$@" --listen 127.0.0.1:0 --data "$work/$name" >"$work/$name.out" 2>"$work/$name.err" &
	pids+=($!)
	deadline=$(($(date +%s) + 30))
	while [[ -z "$url" || -z "$key" ]] && (($(date +%s) < deadline)); do
		sleep 0.1
		url="$(grep -ohE 'https?://127\.0\.0\.1:[0-9]+' "$work/$name.out" "$work/$name.err" 2>/dev/null | head -1 || true)"
		key="$(grep -ohE 'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+' "$work/$name.out" "$work/$name.err" 2>/dev/null | head -1 || true)"
	done
	if [[ -n "$url" && -n "$key" ]]; then
		run_contract "$label" "$url" "$key" "${flags[@]}"
	else
		cat "$work/$name.out" "$work/$name.err" >&2
		summary+=("contract cases against $label: FAILED (no URL and anon key printed)")
		failed=1
	fi
}

if [[ -n "${WATCHPARTY_BIN:-}" ]]; then
	serve_contract serve "watchparty serve" --skip liveness:
	serve_contract serve-liveness "watchparty serve --stale-after 1s --gone-after 2s" --only liveness: -- \
		--stale-after 1s --gone-after 2s
fi

printf '\n'
printf '%s\n' "${summary[@]}"
printf 'supabase tests took %ss\n' "$(($(date +%s) - started))"
suites_failed=$(printf '%s\n' "${summary[@]}" | grep -c 'FAILED' || true)
suites_failed=$((suites_failed + (sql_fail > 0 ? 1 : 0)))
printf 'supabase: %d passed, %d failed\n' "$((${#summary[@]} - suites_failed))" "$suites_failed"
exit "$failed"
