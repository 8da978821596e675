#!/usr/bin/env bash
# Tests/API/run.sh: the REST API, dashboard and CLI client against a real `decnet api` on loopback, with a real
# bus broker and a real SQLite store seeded with a deterministic dataset. No root needed.
#   1. RBAC table (every route x anonymous/viewer/admin) + bad input + token forgery   (api_rbac.py)
#   2. CLI client: decnet login / status / attackers / logs [--follow] / users           (this script)
#   3. headless Chromium: login, overview, attackers, detail screenshots; live feed <= 2 s (dashboard_shots.py)
#   4. schemathesis (PyPI) against /openapi.json as viewer, then as admin: no 5xx, no schema violation
#   5. login rate limit (10 per 5 minutes) on a second instance with the default limit
#   6. issue 16's findings against the live API (hostile_api.py)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${DECNET_BIN:-$ROOT/.build/debug/decnet}
T=$(mktemp -d /tmp/decnet-api-test.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
# The API stays uid 0 without capabilities here (no such service user): its store is in a root-only temp dir.
export DECNET_USER=${DECNET_TEST_USER:-decnet-test-no-such-user}

# schemathesis in a venv of its own (PyPI), reused between runs.
VENV=$ROOT/.build/venv-api
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check schemathesis
fi

SECRET="api-test-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DECNET_BUS_SOCKET=$T/bus.sock
"$BIN" bus --socket "$T/bus.sock" --group "" > "$T/bus.log" 2>&1 &
PIDS+=($!)
"$BIN" store check --db "$T/api.db" > /dev/null
python3 Benchmarks/api/seed.py --ours "$T/api.db" --attackers 500 --events 50000

start_api() { # name, extra env...
  local name=$1; shift
  env "$@" DECNET_JWT_SECRET="$SECRET" DECNET_ADMIN_PASSWORD=initial-admin-pw \
    "$BIN" api --db "$T/${DB_NAME:-$name}.db" --bind 127.0.0.1:0 --port-file "$T/$name.port" --swarm-ca-dir "$T/swarm-$name" > "$T/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
  [ -s "$T/$name.port" ] || { echo "api: $name did not start"; cat "$T/$name.log"; exit 1; }
}
start_api api DECNET_LOGIN_LIMIT=1000
URL=http://127.0.0.1:$(tr -d '\n' < "$T/api.port")
echo "api: listening at $URL"
for _ in $(seq 50); do grep -q "api" "$T/bus.log" 2>/dev/null && break; sleep 0.1; done

echo "== 1. RBAC table, bad input, tokens"
python3 Tests/API/api_rbac.py --url "$URL" --secret "$SECRET" --admin-password initial-admin-pw --out "$T"

echo "== 2. CLI client"
export DECNET_CLIENT_CONFIG=$T/client.json
echo "admin-initial-admin-pw" | "$BIN" login --url "$URL" --username admin --password-stdin
[ "$(stat -c %a "$T/client.json")" = "600" ] || { echo "client.json is not 0600"; exit 1; }
"$BIN" status > "$T/status.txt"
grep -q "health: " "$T/status.txt" && grep -q "events: 50000" "$T/status.txt" || { echo "status output:"; cat "$T/status.txt"; exit 1; }
"$BIN" attackers --json --limit 3 > "$T/attackers.json"
python3 - "$T/attackers.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["total"] == 500 and len(j["data"]) == 3, j
EOF
"$BIN" attackers --limit 3 | grep -q "500 attackers"
"$BIN" logs --json --limit 5 > "$T/logs.json"
[ "$(wc -l < "$T/logs.json")" = "5" ] || { echo "logs --json: expected 5 lines"; exit 1; }
# Attacker bytes with terminal escapes (ESC, BEL, NUL, DEL, C1 CSI/NEL) never reach the operator's terminal raw.
python3 - "$T/api.db" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
with db:
    db.execute("INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line) VALUES (?, ?, ?, ?, '203.0.113.66', ?)",
               (time.time() + 5, "decky-\x1b]0;pwn\x07", "ssh\u009b31m", "login\x00\x7f", "evil \x1b[2J\u0085"))
EOF
"$BIN" logs --limit 1 > "$T/esc.txt"
"$BIN" logs --json --limit 1 > "$T/esc.json"
python3 - "$T/esc.txt" "$T/esc.json" <<'EOF'
import sys
for p in sys.argv[1:]:
    b = open(p, "rb").read()
    assert b"203.0.113.66" in b, (p, b)
    bad = [c for c in b if (c < 0x20 and c != 0x0a) or c == 0x7f]
    c1 = [i for i in range(len(b) - 1) if b[i] == 0xc2 and 0x80 <= b[i + 1] <= 0x9f]
    assert not bad and not c1, (p, b)
    assert b"\\u001b" in b, (p, b)
print("cli: no raw control characters in `logs` or `logs --json`")
EOF
printf 'cli-user-password\n' | "$BIN" users add cli-user --role viewer --password-stdin | grep -q "created cli-user (viewer)"
"$BIN" users list | grep -q "cli-user"
"$BIN" users role cli-user admin | grep -q "now admin"
"$BIN" users delete cli-user | grep -q "deleted"
# --follow: a new event written to the store is printed by the running client.
"$BIN" logs --follow --json --limit 1 > "$T/follow.out" 2>&1 &
FOLLOW=$!
PIDS+=($FOLLOW)
sleep 1.5
python3 - "$T/api.db" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
with db:
    db.execute("INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line) VALUES (?, 'decky-cli', 'ssh', 'login_attempt', '203.0.113.77', 'cli follow test')", (time.time(),))
EOF
for _ in $(seq 40); do grep -q "203.0.113.77" "$T/follow.out" && break; sleep 0.1; done
grep -q "203.0.113.77" "$T/follow.out" || { echo "logs --follow did not print the new event"; cat "$T/follow.out"; exit 1; }
kill $FOLLOW
# Errors are one line and an exit code, not a trace.
set +e
DECNET_API_TOKEN=garbage "$BIN" attackers > /dev/null 2> "$T/err.txt"; rc=$?
set -e
[ "$rc" = "77" ] && grep -q "HTTP 401" "$T/err.txt" || { echo "bad token: rc=$rc"; cat "$T/err.txt"; exit 1; }
echo "cli: ok"

echo "== 3. dashboard (headless Chromium)"
mkdir -p "$T/shots"
python3 Tests/API/dashboard_shots.py --url "$URL" --db "$T/api.db" --user admin --password admin-initial-admin-pw --out "$T/shots"
if [ -n "${DECNET_SHOTS_DIR:-}" ]; then mkdir -p "$DECNET_SHOTS_DIR" && cp "$T"/shots/*.png "$DECNET_SHOTS_DIR"/; fi

echo "== 4. schemathesis"
for role in viewer admin; do
  "$VENV/bin/schemathesis" run "$URL/openapi.json" -H "Authorization: Bearer $(cat "$T/$role.token")" \
    --checks all --exclude-path /api/v1/auth/logout --exclude-path /api/v1/stream \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" --request-timeout 20 --generation-deterministic \
    --no-color > "$T/st-$role.log" 2>&1 || { echo "schemathesis ($role) failed:"; grep -vE '^\s*curl ' "$T/st-$role.log" | tail -80; exit 1; }
  grep -E "^(API Operations|  Tested|  [0-9]+ generated)" -A0 "$T/st-$role.log" | tr '\n' ' '; echo "($role)"
done
# The live stream too: a second API on the same store whose streams end after 1 s (DECNET_SSE_MAX_SECONDS).
DB_NAME=api start_api stream DECNET_SSE_MAX_SECONDS=1 DECNET_LOGIN_LIMIT=1000
SURL=http://127.0.0.1:$(tr -d '\n' < "$T/stream.port")
"$VENV/bin/schemathesis" run "$SURL/openapi.json" -H "Authorization: Bearer $(cat "$T/viewer.token")" \
  --checks all --include-path /api/v1/stream --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" --request-timeout 20 \
  --generation-deterministic --no-color > "$T/st-stream.log" 2>&1 || { echo "schemathesis (stream) failed:"; grep -vE '^\s*curl ' "$T/st-stream.log" | tail -60; exit 1; }
grep -E "^(API Operations|  Tested|  [0-9]+ generated)" -A0 "$T/st-stream.log" | tr '\n' ' '; echo "(stream)"
if grep -q "Internal Server Error\|internal error\|Fatal error" "$T/api.log" "$T/stream.log"; then echo "api logged internal errors:"; grep "internal error" "$T/api.log" | head; exit 1; fi

echo "== 5. login rate limit"
"$BIN" store check --db "$T/limit.db" > /dev/null
start_api limit
LURL=http://127.0.0.1:$(tr -d '\n' < "$T/limit.port")
codes=""
for i in $(seq 11); do
  codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -X POST "$LURL/api/v1/auth/login" -H 'content-type: application/json' -d '{"username":"admin","password":"wrong-password!"}')"
done
echo "login x11:$codes"
[ "$(echo $codes | tr ' ' '\n' | grep -c 401)" = "10" ] && [ "$(echo $codes | awk '{print $11}')" = "429" ] || { echo "rate limit not applied"; exit 1; }
echo "== 6. hostile input (issue 16): crashes, revocation, slots, CSRF, lockout, 2,000 idle sockets"
python3 Tests/API/hostile_api.py --url "$URL" --secret "$SECRET" --admin-password admin-initial-admin-pw \
  --limit-url "$LURL" --limit-admin-password initial-admin-pw
if grep -q "Fatal error\|internal error" "$T/api.log" "$T/limit.log"; then echo "api crashed or logged internal errors"; exit 1; fi
grep -q "open files limit: " "$T/api.log" || { echo "api did not log its open files limit"; exit 1; }
echo "api tests: all passed"
