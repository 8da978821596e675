#!/usr/bin/env bash
# deckies_scale.sh: resource use and crash recovery.
#  1. `decnet serve` with no deckies, then 100 deckies x 4 services deployed while it runs (a first deploy is
#     killed -9 part-way, the second completes the fleet): RSS growth per decky (VmRSS after / before, both
#     measured in this run) must stay under 2 MiB.
#  2. kill -9 the serving process, plant a leftover namespace and a stray host link with our prefix, start
#     again: all 100 adopted (none recreated), the leftovers removed, the decoys answer.
#  3. `decnet teardown --all`: no namespace, no host link with our prefix, no record.
# COUNT=N overrides the 100 (e.g. for a quick local run).
source "$(dirname "$0")/lib.sh"
COUNT=${COUNT:-100}
make_bridge
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

"$DECNET" serve $DK --no-supervise --log-file "$WORK/decoys.log" --artifacts-dir "$WORK/art" --poll 0.5 2>"$WORK/serve.err" &
SERVE=$!
PIDS+=("$SERVE")
wait_for "$WORK/serve.err" "serving 0 decky"
sleep 1
RSS0=$(rss "$SERVE")
# A deploy killed half-way leaves a partial fleet; running the same deploy again completes it.
"$DECNET" deploy $DK -n "$COUNT" -i "$BR" --ip-start "$NET.10" --services http,ftp,redis,smtp >/dev/null 2>&1 &
DEPLOY=$!
sleep 0.3; kill -9 "$DEPLOY" 2>/dev/null || true; wait "$DEPLOY" 2>/dev/null || true
echo "deploy killed after 0.3 s: $(ip netns list | grep -c "^${PFX}-" || true) namespaces so far"
t0=$(date +%s.%N)
"$DECNET" deploy $DK -n "$COUNT" -i "$BR" --ip-start "$NET.10" --services http,ftp,redis,smtp >"$WORK/deploy.out"
t1=$(date +%s.%N)
[ "$(grep -c ' running' "$WORK/deploy.out")" = "$COUNT" ]
wait_for "$WORK/serve.err" "serving $COUNT decky" 600
# exercise every decky once so per-decky state and connection paths are in the number
CURLS=()
for i in $(seq 10 $((9 + COUNT))); do curl -s -o /dev/null --max-time 5 "http://$NET.$i/" & CURLS+=($!); done
wait "${CURLS[@]}"     # (a bare `wait` would wait for the server too)
sleep 1
RSS1=$(rss "$SERVE")
per=$(( (RSS1 - RSS0) / COUNT ))
echo "deploy (completing) $COUNT deckies: $(echo "$t1 - $t0" | bc) s; serve RSS ${RSS0} KiB -> ${RSS1} KiB: $per KiB per decky ($((COUNT * 5)) listeners incl. smtp 587)"
[ "$per" -lt 2048 ] || { echo "RSS growth $per KiB per decky >= 2 MiB"; exit 1; }
[ "$(ip netns list | grep -c "^${PFX}-")" = "$COUNT" ]

echo "-- kill -9, leftovers planted, restart"
kill -9 "$SERVE"; wait "$SERVE" 2>/dev/null || true
ip netns add "${PFX}-ghost"
ip link add dnfeedbeef type veth peer name dnfeedbee2
ip link set dnfeedbeef alias "decnet:${PFX}-ghost2"
: >"$WORK/serve.err"
"$DECNET" serve $DK --no-supervise --log-file "$WORK/decoys.log" --artifacts-dir "$WORK/art" 2>"$WORK/serve.err" &
SERVE=$!
PIDS+=("$SERVE")
wait_for "$WORK/serve.err" "serving $COUNT decky" 600
grep -q "adopted $COUNT existing" "$WORK/serve.err" || { cat "$WORK/serve.err"; exit 1; }
if grep -q "created" "$WORK/serve.err"; then echo "a decky was recreated instead of adopted"; exit 1; fi
grep -q "removed 1 leftover namespace" "$WORK/serve.err"
[ ! -e /run/netns/"${PFX}-ghost" ]
[ ! -e /sys/class/net/dnfeedbeef ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$NET.$((9 + COUNT))/")" = 200 ]
[ "$(redis-cli -h "$NET.10" PING)" = PONG ]
"$DECNET" status --local $DK >"$WORK/status.out"
[ "$(grep -c ' running' "$WORK/status.out")" = "$COUNT" ]

echo "-- teardown --all"
"$DECNET" teardown $DK --all
wait_for "$WORK/serve.err" "serving 0 decky" 100
[ "$(ip netns list | grep -c "^${PFX}-" || true)" = 0 ]
if grep -q "decnet:${PFX}-" /sys/class/net/*/ifalias 2>/dev/null; then echo "host links left behind"; exit 1; fi
[ "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from deckies').fetchone()[0])" "$WORK/store.db")" = 0 ]
echo "deckies_scale: ok"
