#!/usr/bin/env bash
# Benchmarks/api/run.sh: wrk against decnet's REST API and the original DECNET API (PyPI `decnet`, SQLite),
# both serving the same seeded dataset (10 k attackers, 1 M events by default), measured in the same run on the
# same machine: /api/v1/attackers, /api/v1/logs and /api/v1/stats at 64 and 500 connections. Prints rps and
# p99 for both and the ratio; any non-2xx answer invalidates a run (reported, exit 1).
#
#   Benchmarks/api/run.sh [--attackers N] [--events N] [--duration S] [--original-workers "1 2"]
# Not part of CI (minutes of load); needs wrk (Debian) and PyPI access for the original.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ATTACKERS=10000 EVENTS=1000000 DURATION=10 OWORKERS="1 2"
while [ $# -gt 0 ]; do
  case $1 in
    --attackers) ATTACKERS=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --original-workers) OWORKERS=$2; shift 2 ;;
    *) echo "unknown option $1"; exit 64 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 69; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
BIN=$ROOT/.build/release/decnet
[ -x "$BIN" ] || swift build -c release --product decnet
OVENV=$ROOT/.build/venv-decnet-original
if [ ! -x "$OVENV/bin/decnet" ]; then
  python3 -m venv "$OVENV"
  "$OVENV/bin/pip" install -q --disable-pip-version-check decnet greenlet
fi
ODB=$("$OVENV/bin/python" -c 'import decnet.config as c; print(c._ROOT / "decnet.db")')
OVERSION=$("$OVENV/bin/pip" show decnet | awk '/^Version/ {print $2}')

T=$(mktemp -d /tmp/decnet-api-bench.XXXXXX)
PIDS=()
# The original's `decnet api` execs uvicorn workers that outlive a plain kill of the launcher: stop them by name.
stop_original() { pkill -f "uvicorn decnet.web.api:app --host 127.0.0.1 --port 18100" 2>/dev/null || true; pkill -f "venv-decnet-original/bin/decnet api --port 18100" 2>/dev/null || true; sleep 2; }
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; stop_original; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
SECRET=bench-secret-0123456789abcdefghijklmnopqrstuv
export DECNET_JWT_SECRET=$SECRET DECNET_ADMIN_PASSWORD=bench-initial-pw DECNET_LIMITER_ENABLED=false DECNET_BUS_ENABLED=false

wait_http() { for _ in $(seq 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1"; return 1; }
token() { # base-url -> admin token (the forced password change happens once per database)
  local u=$1 t
  t=$(curl -s -X POST "$u/api/v1/auth/login" -H 'content-type: application/json' -d '{"username":"admin","password":"bench-final-password"}' | python3 -c 'import sys,json; print(json.load(sys.stdin).get("access_token",""))')
  if [ -z "$t" ]; then
    t=$(curl -s -X POST "$u/api/v1/auth/login" -H 'content-type: application/json' -d '{"username":"admin","password":"bench-initial-pw"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
    curl -s -o /dev/null -X POST "$u/api/v1/auth/change-password" -H "authorization: Bearer $t" -H 'content-type: application/json' -d '{"old_password":"bench-initial-pw","new_password":"bench-final-password"}'
    t=$(curl -s -X POST "$u/api/v1/auth/login" -H 'content-type: application/json' -d '{"username":"admin","password":"bench-final-password"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
  fi
  echo "$t"
}

# 1. Databases: ours migrated by decnet, the original's by one start of its API (Alembic), then one seed.
"$BIN" store check --db "$T/ours.db" > /dev/null
rm -f "$ODB" "$ODB-wal" "$ODB-shm"
touch "$T/orig.log"
(cd "$T" && "$OVENV/bin/decnet" api --port 18100 --log-file "$T/orig.log" > "$T/orig-init.log" 2>&1) &
OP=$!
wait_http http://127.0.0.1:18100/api/v1/health
kill $OP 2>/dev/null || true; stop_original; wait $OP 2>/dev/null || true
python3 Benchmarks/api/seed.py --ours "$T/ours.db" --original "$ODB" --attackers "$ATTACKERS" --events "$EVENTS"

RESULTS=$T/results.txt
bench() { # label url token
  local label=$1 url=$2 tok=$3
  for ep in /api/v1/attackers /api/v1/logs /api/v1/stats; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url$ep" -H "authorization: Bearer $tok")
    [ "$code" = "200" ] || { echo "$label $ep answered $code before the run"; exit 1; }
    for c in 64 500; do
      wrk -t2 -c$c -d${DURATION}s --latency -H "Authorization: Bearer $tok" "$url$ep" > "$T/wrk.out" 2>&1
      rps=$(awk '/^Requests\/sec/ {print $2}' "$T/wrk.out")
      p99=$(awk '$1=="99%" {print $2}' "$T/wrk.out")
      non2xx=$(awk '/Non-2xx/ {print $5}' "$T/wrk.out"); non2xx=${non2xx:-0}
      errs=$(awk '/Socket errors/ {print $0}' "$T/wrk.out")
      echo "$label $ep $c $rps $p99 $non2xx ${errs:-none}" | tee -a "$RESULTS"
      [ "$non2xx" = "0" ] || { echo "non-2xx answers: run invalid"; cat "$T/wrk.out"; exit 1; }
    done
  done
}

# 2. Ours.
"$BIN" api --db "$T/ours.db" --bind 127.0.0.1:18000 > "$T/ours.log" 2>&1 &
PIDS+=($!)
wait_http http://127.0.0.1:18000/openapi.json
bench decnet http://127.0.0.1:18000 "$(token http://127.0.0.1:18000)"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

# 3. The original, with each worker count asked for.
for w in $OWORKERS; do
  (cd "$T" && exec "$OVENV/bin/decnet" api --port 18100 --workers "$w" --log-file "$T/orig.log" > "$T/orig-$w.log" 2>&1) &
  PIDS+=($!)
  wait_http http://127.0.0.1:18100/api/v1/health
  sleep 2
  bench "original-w$w" http://127.0.0.1:18100 "$(token http://127.0.0.1:18100)"
  stop_original
done

# 4. Report: ours against the best original configuration per endpoint and connection count.
python3 - "$RESULTS" "$OVERSION" "$ATTACKERS" "$EVENTS" <<'EOF'
import sys
rows = [l.split(maxsplit=6) for l in open(sys.argv[1]) if l.strip()]
def ms(s):
    return float(s[:-2]) if s.endswith("ms") else float(s[:-2]) / 1000 if s.endswith("us") else float(s[:-1]) * 1000
res = {}
for label, ep, c, rps, p99, non2xx, errs in rows:
    res.setdefault((ep, c), {})[label] = (float(rps), ms(p99), errs)
print(f"\nAPI benchmark: {sys.argv[3]} attackers, {sys.argv[4]} events; original = PyPI decnet {sys.argv[2]} (SQLite)")
print(f"{'endpoint':22} {'conns':>5} {'decnet rps':>11} {'p99 ms':>8} {'original rps (best)':>20} {'p99 ms':>8} {'ratio':>7}")
worst = None
for (ep, c), by in sorted(res.items()):
    ours = by["decnet"]
    orig_label, orig = max(((k, v) for k, v in by.items() if k != "decnet"), key=lambda kv: kv[1][0])
    ratio = ours[0] / orig[0] if orig[0] else float("inf")
    worst = ratio if worst is None else min(worst, ratio)
    p99ok = "" if ours[1] <= orig[1] else "  (p99 worse!)"
    print(f"{ep:22} {c:>5} {ours[0]:>11.0f} {ours[1]:>8.2f} {orig[0]:>14.0f} ({orig_label[9:]}) {orig[1]:>8.2f} {ratio:>6.1f}x{p99ok}")
print(f"lowest ratio: {worst:.1f}x")
EOF
