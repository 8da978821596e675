#!/usr/bin/env bash
# daemons_sigterm.sh: every daemon (bus, serve, sensor, profiler, mutate --watch, api) is a ServiceGroup that
# stops cleanly on SIGTERM within 5 s with what it queued flushed: 30 HTTP requests sent to a decky just before
# the signal are all in the store afterwards, each daemon exits 0 and logs its stop. `up` is up_demo.sh.
source "$(dirname "$0")/lib.sh"
make_bridge
export DECNET_DB_PATH=$WORK/store.db DECNET_BUS_SOCKET=$WORK/bus.sock
DK="--netns-prefix ${PFX}-"
D1=$NET.10
cat >"$WORK/fleet.ini" <<INI
[general]
net = $NET.0/24
interface = $BR

[d1]
ip = $D1
services = http

[d2]
ip = $NET.11
services = telnet
INI
"$DECNET" bus --socket "$WORK/bus.sock" --group "" 2>"$WORK/bus.err" &
BUS=$!; PIDS+=("$BUS")
for _ in $(seq 50); do [ -S "$WORK/bus.sock" ] && break; sleep 0.1; done
"$DECNET" deploy $DK --config "$WORK/fleet.ini" >"$WORK/deploy.out"
start_serve 2 --poll 0.2
start_sensor "$BR" --decky "d1=$D1" --immediate
"$DECNET" profiler --interval 0.2 2>"$WORK/profiler.err" & PROF=$!; PIDS+=("$PROF")
"$DECNET" mutate $DK --watch --poll 1 --log-file "$WORK/mutator.log" 2>"$WORK/mutator.err" & MUT=$!; PIDS+=("$MUT")
start_api_admin "$WORK/store.db"
APIPID=${PIDS[-1]}
wait_for "$WORK/mutator.err" "watching"
wait_for "$WORK/profiler.err" "following"

echo "-- fleet commands through the API when one is configured (--url), --local stays on the box"
BASE=${API%/api/v1}
DECNET_API_TOKEN=$T "$DECNET" mutate --url "$BASE" --id d2 >"$WORK/mutate-api.out"
grep -q "^d2: telnet -> " "$WORK/mutate-api.out" || { cat "$WORK/mutate-api.out"; exit 1; }
grep -q 'decky="d2"' "$WORK/mutator.log" 2>/dev/null || grep -q 'decky="d2"' "$WORK/decnet.log"
DECNET_API_TOKEN=$T "$DECNET" teardown --url "$BASE" --id d2 >"$WORK/teardown-api.out"
grep -q "removed 1 decky(ies): d2" "$WORK/teardown-api.out"
for _ in $(seq 50); do ip netns list | grep -q "^${PFX}-d2" || break; sleep 0.1; done
! ip netns list | grep -q "^${PFX}-d2" || { echo "serve did not remove d2 after the API teardown"; exit 1; }
"$DECNET" status $DK --local --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [x["name"] for x in d["deckies"]] == ["d1"], d'
if DECNET_API_TOKEN=$T "$DECNET" deploy --url "$BASE" -n 2 2>"$WORK/deploy-api.err"; then echo "flag deploy through the API accepted"; exit 1; fi
grep -q "give --config FILE, or add --local" "$WORK/deploy-api.err"

for i in $(seq 30); do curl -s -m 3 -o /dev/null "http://$D1/sigterm-check-$i" & done
wait $(jobs -p | grep -vxE "$BUS|$SERVE|$SENSOR_PID|$PROF|$MUT|$APIPID") 2>/dev/null || true

declare -A NAME=([$SERVE]=serve [$SENSOR_PID]=sensor [$PROF]=profiler [$MUT]=mutator [$APIPID]=api [$BUS]=bus)
fail=0
stop() {   # pid: SIGTERM, wait, time it
  local pid=$1 t0 t1 rc=0
  t0=$(date +%s.%N)
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  t1=$(date +%s.%N)
  local took; took=$(echo "$t1 - $t0" | bc -l)
  printf '%-9s exit %d after %.2f s\n' "${NAME[$pid]}" "$rc" "$took"
  [ "$rc" -eq 0 ] || fail=1
  (( $(echo "$took <= 5.0" | bc -l) )) || fail=1
}
# producers first, the broker last (as a supervisor would)
for p in "$SERVE" "$SENSOR_PID" "$PROF" "$MUT" "$APIPID" "$BUS"; do stop "$p"; done
[ "$fail" -eq 0 ] || { tail -5 "$WORK"/*.err; exit 1; }
grep -q "decnet serve: stopped" "$WORK/serve.err"
grep -q "decnet sensor: stopped" "$WORK/sensor.err"
grep -q "decnet bus: stopped" "$WORK/bus.err"
n=$(python3 - "$WORK/store.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(DISTINCT json_extract(fields, '$.path')) FROM logs WHERE service = 'http' AND json_extract(fields, '$.path') LIKE '/sigterm-check-%'").fetchone()[0])
PY
)
echo "requests sent just before SIGTERM, in the store: $n of 30"
[ "$n" -eq 30 ]
"$DECNET" teardown $DK --all >/dev/null
echo "daemons_sigterm: ok"
