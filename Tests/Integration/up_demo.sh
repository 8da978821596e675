#!/usr/bin/env bash
# up_demo.sh: `decnet up --demo` on this machine, as the README runs it: the dashboard answers, one attacker is
# scored with at least two deckies in its traversal within 90 s (read back through the API with the one-time
# password), events sent just before SIGTERM are all in the store afterwards, the process stops within 5 s of
# the signal, and nothing is left behind: no namespace, link, process or socket.
source "$(dirname "$0")/lib.sh"
OUT=$WORK/up.out ERR=$WORK/up.err
ns_before=$(ip netns list | awk '{print $1}' | grep -c '^dn[dx]-' || true)
[ "$ns_before" -eq 0 ] || { echo "a demo is already running here"; exit 1; }
t0=$(date +%s)
"$DECNET" up --demo --keep-state --bind 127.0.0.1:0 --port-file "$WORK/up.port" >"$OUT" 2>"$ERR" &
UP=$!
PIDS+=("$UP")
wait_for "$OUT" "decnet up: dashboard http://" 300
URL=$(sed -n 's/^decnet up: dashboard \(http[^ ]*\).*/\1/p' "$OUT")
PW=$(sed -n 's/.*one-time password \([^ ]*\) .*/\1/p' "$OUT")
STATE=$(sed -n 's/.*; state \(\/[^ ]*\)$/\1/p' "$OUT")
ATK=$(sed -n 's/.*; attacker \([0-9.]*\) in namespace.*/\1/p' "$OUT")
WEB=$(sed -n 's/.*web1 \([0-9.]*\),.*/\1/p' "$OUT")
echo "dashboard $URL, state $STATE, attacker $ATK, web1 $WEB"
# confined like the decoys: their four capabilities only, no new privileges, a seccomp filter
grep -q "^NoNewPrivs:[[:space:]]*1" /proc/$UP/status
grep -q "^Seccomp:[[:space:]]*2" /proc/$UP/status
cap=$(awk '/^CapEff/ {print $2}' /proc/$UP/status)
[ "$((16#$cap))" -eq $(( (1<<21) | (1<<12) | (1<<13) | (1<<10) )) ] || { echo "CapEff $cap"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL")
case "$code" in 200|302|303|307) ;; *) echo "dashboard answered $code"; exit 1 ;; esac
curl -sf "${URL}openapi.json" -o /dev/null

echo "-- a scored attacker with >= 2 deckies within 90 s"
wait_for "$OUT" "decnet up: attacker $ATK scored" 900
took=$(( $(date +%s) - t0 ))
echo "scored after ${took} s: $(grep 'attacker .* scored' "$OUT")"
[ "$took" -le 90 ] || { echo "took ${took} s (limit 90)"; exit 1; }
API=${URL}api/v1
T=$(api_token "$PW")
curl -sf -o /dev/null -X POST "$API/auth/change-password" -H "authorization: Bearer $T" -H 'content-type: application/json' \
  -d "{\"old_password\":\"$PW\",\"new_password\":\"demo-integration-pw\"}"
T=$(api_token demo-integration-pw)
curl -sf "$API/attackers?sort_by=score" -H "authorization: Bearer $T" >"$WORK/attackers.json"
python3 - "$WORK/attackers.json" "$ATK" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
rows = body["data"] if isinstance(body, dict) else body
a = [r for r in rows if r["ip"] == sys.argv[2]]
assert a, rows
a = a[0]
assert a["decky_count"] >= 2 and a["is_traversal"], a
print("API: attacker", a["ip"], "score", a.get("score"), "deckies", a["decky_count"], "traversal", a["is_traversal"])
PY

echo "-- 40 requests just before SIGTERM are all in the store afterwards"
for i in $(seq 40); do ip netns exec dnx-atk curl -s -m 3 -o /dev/null "http://$WEB/flushcheck-$i" & done
wait $(jobs -p | grep -v "^$UP$") 2>/dev/null || true
ts=$(date +%s.%N)
kill -TERM "$UP"
wait "$UP" || true
stopped=$(date +%s.%N)
grep -q "decnet up: stopped" "$ERR" || { cat "$ERR" | tail; exit 1; }
python3 - "$ts" "$stopped" "$ERR" <<'PY'
import sys, re, datetime
t_sig, t_end = float(sys.argv[1]), float(sys.argv[2])
# the services' stop: the broker closes last of them (the demo teardown after it is not the daemon's stop)
closed = [l for l in open(sys.argv[3]) if "decnet.bus.server - closed" in l]
assert closed, "no broker close line"
ts = closed[-1].split(" ")[1]
t_closed = datetime.datetime.fromisoformat(ts).timestamp()
print(f"services stopped {t_closed - t_sig:.2f} s after SIGTERM; process exited after {t_end - t_sig:.2f} s (teardown included)")
assert t_closed - t_sig <= 5.0, "graceful stop took longer than 5 s"
PY
n=$(python3 - "$STATE/decnet.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(DISTINCT json_extract(fields, '$.path')) FROM logs WHERE service = 'http' AND json_extract(fields, '$.path') LIKE '/flushcheck-%'").fetchone()[0])
PY
)
echo "flushcheck paths in the store: $n of 40"
[ "$n" -eq 40 ] || { echo "events lost at shutdown"; exit 1; }

echo "-- nothing left behind"
left_ns=$(ip netns list | awk '{print $1}' | grep '^dn[dx]-' || true)
left_links=$(ip -o link show | grep -E ': dn[dx]-|decnet:dnd-' || true)
left_proc=$(pgrep -f "decnet up --demo" || true)
left_sock=$(ss -xlpn 2>/dev/null | grep "$STATE" || true)
left_port=$(ss -tlpn 2>/dev/null | grep ":$(cat "$WORK/up.port") " || true)
[ -z "$left_ns$left_links$left_proc$left_sock$left_port" ] || {
  echo "left behind: ns[$left_ns] links[$left_links] proc[$left_proc] sock[$left_sock] port[$left_port]"; exit 1; }
test ! -e "$STATE/bus.sock"
rm -rf "$STATE"

echo "-- Ctrl-C (SIGINT) while the attacker runs: the same clean stop, nothing left, the state directory gone"
"$DECNET" up --demo --bind 127.0.0.1:0 >"$WORK/up2.out" 2>"$WORK/up2.err" &
UP2=$!
PIDS+=("$UP2")
wait_for "$WORK/up2.out" "decnet up: dashboard http://" 300
STATE2=$(sed -n 's/.*; state \(\/[^ ]*\)$/\1/p' "$WORK/up2.out")
sleep 3
kill -INT "$UP2"
wait "$UP2" || true
grep -q "decnet up: demo removed" "$WORK/up2.err" || { tail "$WORK/up2.err"; exit 1; }
left=$(ip netns list | awk '{print $1}' | grep '^dn[dx]-' || true)$(ip -o link show | grep -E ': dn[dx]-|decnet:dnd-' || true)$(pgrep -f "decnet up --demo" || true)
[ -z "$left" ] || { echo "left behind after Ctrl-C: $left"; exit 1; }
test ! -e "$STATE2"
echo "up_demo: ok"
