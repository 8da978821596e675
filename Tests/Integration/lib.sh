# lib.sh: shared helpers for the namespace integration tests (sourced, not run).
# Every test names its namespaces and links with a unique prefix (dn + 5 random hex) so parallel runs
# never collide, and removes them on exit, failure included.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DECNET=${DECNET:-$ROOT/.build/debug/decnet}
PFX=dn$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-5)
WORK=$(mktemp -d /tmp/decnet-it.XXXXXX)
PIDS=()
# Daemons started here stay uid 0 without capabilities (the documented fallback when the service user is
# absent), whether or not this machine has a `decnet` user: their files live in root-only temp directories.
# privileges.sh sets DECNET_USER=decnet itself.
export DECNET_USER=${DECNET_TEST_USER:-decnet-test-no-such-user}
# deploy/teardown/mutate write decky_mutated lines here, not to the host's /var/log/decnet
export DECNET_INGEST_LOG_FILE=$WORK/decnet.log
# a /24 picked from the prefix, inside 10.200.0.0/13; only addresses in our own namespaces are used
NET=10.$((200 + 0x${PFX:2:1} % 8)).$((0x${PFX:3:2}))

cleanup() {
  local rc=$?
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PFX" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$PFX" || true); do
    ip link del "$l" 2>/dev/null || true
  done
  if [ "${KEEP_WORK:-0}" = 1 ] || [ $rc -ne 0 ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT INT TERM

# veth pair: ${PFX}a in the root namespace ($NET.1), ${PFX}b in namespace ${PFX}s ($NET.2).
make_pair() {
  ip netns add "${PFX}s"
  ip link add "${PFX}a" type veth peer name "${PFX}b"
  ip link set "${PFX}b" netns "${PFX}s"
  ip addr add "$NET.1/24" dev "${PFX}a"
  ip link set "${PFX}a" up
  ip netns exec "${PFX}s" ip addr add "$NET.2/24" dev "${PFX}b"
  ip netns exec "${PFX}s" ip link set "${PFX}b" up
  ip netns exec "${PFX}s" ip link set lo up
  # no IPv6 router solicitations / DAD chatter in the captures
  sysctl -qw "net.ipv6.conf.${PFX}a.disable_ipv6=1" || true
  ip netns exec "${PFX}s" sysctl -qw "net.ipv6.conf.${PFX}b.disable_ipv6=1" || true
}

# Waits until FILE contains TEXT (or fails after N tenths of a second).
wait_for() {
  local file=$1 text=$2 n=${3:-100}
  for _ in $(seq "$n"); do grep -q -- "$text" "$file" 2>/dev/null && return 0; sleep 0.1; done
  echo "timeout waiting for '$text' in $file" >&2; cat "$file" >&2 || true; return 1
}

# Starts the sensor on IFACE with events under $WORK/events.log; extra args follow.
start_sensor() {
  local ifc=$1; shift
  "$DECNET" sensor --interface "$ifc" --log-file "$WORK/events.log" --db "$WORK/store.db" --stats-interval 0 "$@" \
    2>"$WORK/sensor.err" &
  SENSOR_PID=$!
  PIDS+=("$SENSOR_PID")
  wait_for "$WORK/sensor.err" "capturing on"
}

# Serves the deployed deckies (`decnet serve` with the prefix in $DK, events in $WORK/decoys.log, artifacts
# in $WORK/art) and waits for "serving N decky"; extra args follow. Sets SERVE (its pid).
start_serve() {
  local n=$1; shift
  # --no-supervise: SERVE is the decoy process itself (memory, kill -9); serve_supervisor.sh tests the supervisor.
  "$DECNET" serve $DK --no-supervise --log-file "$WORK/decoys.log" --artifacts-dir "$WORK/art" "$@" 2>"$WORK/serve.err" &
  SERVE=$!
  PIDS+=("$SERVE")
  wait_for "$WORK/serve.err" "serving $n decky"
}

# Starts `decnet api` on loopback over DB (stderr in $WORK/api.err) and changes the first admin's password at
# once; sets API (the /api/v1 base URL) and T (an admin token).
api_token() {
  curl -s -X POST "$API/auth/login" -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$1\"}" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])'
}
start_api_admin() {
  DECNET_JWT_SECRET=integration-secret-0123456789abcdefghij DECNET_ADMIN_PASSWORD=initial-admin-pw \
    "$DECNET" api --db "$1" --bind 127.0.0.1:0 --port-file "$WORK/api.port" 2>"$WORK/api.err" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/api.port" ] && break; sleep 0.1; done
  API=http://127.0.0.1:$(tr -d '\n' <"$WORK/api.port")/api/v1
  T=$(api_token initial-admin-pw)
  curl -s -o /dev/null -X POST "$API/auth/change-password" -H "authorization: Bearer $T" -H 'content-type: application/json' \
    -d '{"old_password":"initial-admin-pw","new_password":"integration-admin-pw"}'
  T=$(api_token integration-admin-pw)
}

stop_sensor() {
  kill -TERM "$SENSOR_PID"
  wait "$SENSOR_PID" || { echo "sensor exited with $?" >&2; cat "$WORK/sensor.err" >&2; return 1; }
}

# A test bridge ${PFX}br carrying $NET.1/24 (deckies attach to it with veths); sets BR.
make_bridge() {
  BR=${PFX}br
  ip link add "$BR" type bridge
  ip addr add "$NET.1/24" dev "$BR"
  ip link set "$BR" up
  sysctl -qw "net.ipv6.conf.$BR.disable_ipv6=1" || true
}
