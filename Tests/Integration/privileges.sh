#!/usr/bin/env bash
# privileges.sh (issue 16): every daemon, after start-up, holds exactly the privileges the README's
# "Privileges" table gives it. Reads /proc/<pid>/task/*/status (capabilities are per thread) for each of
# bus, api, profiler, mutator (user decnet, no capability), sensor (uid 0, CAP_NET_RAW) and serve (uid 0,
# CAP_SYS_ADMIN CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE): NoNewPrivs 1 and Seccomp 2 everywhere.
# The daemons still do their job confined: the API logs in, the sensor captures a ping.
source "$(dirname "$0")/lib.sh"
export DECNET_USER=decnet
CREATED_USER=0
if ! id decnet >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin decnet
  CREATED_USER=1
fi
drop_user() { if [ "$CREATED_USER" = 1 ]; then sleep 0.5; userdel decnet 2>/dev/null || true; fi; }
trap 'rc=$?; for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done; drop_user; cleanup_rc=$rc; (exit $rc); cleanup' EXIT
chmod 711 "$WORK"
STATE=$WORK/state
install -d -o decnet -g decnet -m 0770 "$STATE"
export DECNET_BUS_SOCKET=$STATE/bus.sock DECNET_DB_PATH=$STATE/decnet.db DECNET_INGEST_LOG_FILE=$STATE/decnet.log
"$DECNET" bus --socket "$STATE/bus.sock" --group "" > "$WORK/bus.log" 2>&1 & PIDS+=($!); BUS=$!
for _ in $(seq 50); do [ -S "$STATE/bus.sock" ] && break; sleep 0.1; done
DECNET_JWT_SECRET=privileges-test-secret-0123456789abcdef DECNET_ADMIN_PASSWORD=initial-admin-pw \
  "$DECNET" api --db "$STATE/decnet.db" --bind 127.0.0.1:0 --port-file "$STATE/api.port" > "$WORK/api.log" 2>&1 & PIDS+=($!); API=$!
for _ in $(seq 100); do [ -s "$STATE/api.port" ] && break; sleep 0.1; done
"$DECNET" profiler --db "$STATE/decnet.db" > "$WORK/profiler.log" 2>&1 & PIDS+=($!); PROF=$!
"$DECNET" mutate --watch --db "$STATE/decnet.db" --poll 1 > "$WORK/mutator.log" 2>&1 & PIDS+=($!); MUT=$!
make_pair
"$DECNET" sensor --interface "${PFX}a" --db "$STATE/decnet.db" --log-file "$WORK/sensor.log" --stats-interval 1 > "$WORK/sensor.out" 2>&1 & PIDS+=($!); SEN=$!
"$DECNET" serve --db "$STATE/decnet.db" --netns-prefix "${PFX}d" --log-file "$WORK/decoys.log" --artifacts-dir "$WORK/artifacts" > "$WORK/serve.log" 2>&1 & PIDS+=($!); SRV=$!

wait_log() { for _ in $(seq 100); do grep -q "confined:" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "privileges: $1 never said 'confined:'"; cat "$1"; exit 1; }
for f in bus.log api.log profiler.log mutator.log sensor.out serve.log; do wait_log "$WORK/$f"; done
sleep 1
DECNET_UID=$(id -u decnet)
check() { # name pid uid capmask
  local name=$1 pid=$2 uid=$3 mask=$4 t n=0
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || { echo "privileges: $name is not running"; cat "$WORK/$name"*.log 2>/dev/null | tail; exit 1; }
  for t in /proc/"$pid"/task/*; do
    local s; s=$(cat "$t/status" 2>/dev/null) || continue
    n=$((n + 1))
    local got_uid eff prm bnd nnp sec
    got_uid=$(awk '/^Uid:/{print $2" "$3" "$4" "$5}' <<<"$s")
    eff=$(awk '/^CapEff:/{print $2}' <<<"$s"); prm=$(awk '/^CapPrm:/{print $2}' <<<"$s"); bnd=$(awk '/^CapBnd:/{print $2}' <<<"$s")
    nnp=$(awk '/^NoNewPrivs:/{print $2}' <<<"$s"); sec=$(awk '/^Seccomp:/{print $2}' <<<"$s")
    [ "$got_uid" = "$uid $uid $uid $uid" ] || { echo "privileges: $name thread $t: Uid $got_uid, want $uid"; exit 1; }
    for v in "$eff" "$prm" "$bnd"; do
      [ "$((16#$v))" = "$((mask))" ] || { echo "privileges: $name thread $t: CapEff=$eff CapPrm=$prm CapBnd=$bnd, want $(printf %016x $((mask)))"; exit 1; }
    done
    [ "$nnp" = 1 ] && [ "$sec" = 2 ] || { echo "privileges: $name thread $t: NoNewPrivs=$nnp Seccomp=$sec"; exit 1; }
  done
  echo "privileges: $name: $n threads, uid $uid, capabilities $(printf %016x $((mask))), NoNewPrivs 1, Seccomp 2"
}
check bus "$BUS" "$DECNET_UID" 0
check api "$API" "$DECNET_UID" 0
check profiler "$PROF" "$DECNET_UID" 0
check mutator "$MUT" "$DECNET_UID" 0
check sensor "$SEN" 0 $((1 << 13))
DECOYS=$(((1 << 21) | (1 << 12) | (1 << 13) | (1 << 10)))
check serve "$SRV" 0 $DECOYS
KIDS=$(pgrep -P "$SRV" || true)
[ "$(echo "$KIDS" | wc -w)" = 2 ] || { echo "privileges: want 2 decoy processes under serve, got: $KIDS"; exit 1; }
for k in $KIDS; do check "serve-decoys($k)" "$k" 0 $DECOYS; done

# Confined, they still work: a login on the API, the sensor sees traffic on its veth.
URL=http://127.0.0.1:$(tr -d '\n' < "$STATE/api.port")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/v1/auth/login" -H 'content-type: application/json' -d '{"username":"admin","password":"initial-admin-pw"}')
[ "$code" = 200 ] || { echo "privileges: confined API login -> $code"; tail "$WORK/api.log"; exit 1; }
ip netns exec "${PFX}s" ping -c 3 -i 0.2 "$NET.1" > /dev/null
ip netns exec "${PFX}s" curl -s -m 2 "http://$NET.1:9/" > /dev/null 2>&1 || true
sleep 2.5
grep -q "packets=[1-9]" "$WORK/sensor.out" || { echo "privileges: the confined sensor captured nothing"; tail "$WORK/sensor.out"; exit 1; }
for f in "$WORK"/*.log "$WORK/sensor.out"; do
  if grep -q "Operation not permitted\|Fatal error" "$f"; then echo "privileges: $f:"; grep "Operation not permitted\|Fatal error" "$f" | head -3; exit 1; fi
done
echo "privileges: all passed"
