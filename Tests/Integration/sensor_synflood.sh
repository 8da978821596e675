#!/usr/bin/env bash
# sensor_synflood.sh [COUNT] [CAP_MB]: a flood of SYNs from COUNT (default 10,000,000) distinct sources into
# the live sensor; its peak RSS (VmHWM) must stay under the configured memory cap, with flow-table
# evictions counted. The flood only ever goes onto the veth pair this test creates.
source "$(dirname "$0")/lib.sh"
COUNT=${1:-10000000}
CAP=${2:-512}
cc -O2 -o "$WORK/synflood" "$ROOT/Tests/Integration/synflood.c"
ip link add "${PFX}a" type veth peer name "${PFX}b"
for l in a b; do sysctl -qw "net.ipv6.conf.${PFX}$l.disable_ipv6=1" || true; ip link set "${PFX}$l" up; done
start_sensor "${PFX}b" --memory-cap-mb "$CAP" --decky "target=192.0.2.80" --stats-file "$WORK/stats.json"
"$WORK/synflood" "${PFX}a" "$COUNT" 192.0.2.80
sleep 1
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SENSOR_PID/status")
stop_sensor
python3 - "$WORK/stats.json" "$hwm" "$CAP" "$COUNT" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); hwm_kb = int(sys.argv[2]); cap_mb = int(sys.argv[3]); count = int(sys.argv[4])
seen = s["packets"]
print(f"offered {count} SYNs; kernel received {s['kernel_received']:.0f}, kernel dropped {s['kernel_dropped']:.0f}, "
      f"decoded {seen:.0f}, ring drops {s['ring_drops']:.0f}")
print(f"flows {s['flows']:.0f}, evicted {s['flows_evicted']:.0f} (sessions evicted {s['sessions_evicted']:.0f}); "
      f"events {s['events']:.0f} (rate limited {s['rate_limited']:.0f}); store committed {s.get('store_committed', 0):.0f}")
print(f"peak RSS {hwm_kb / 1024:.1f} MiB, cap {cap_mb} MiB")
assert hwm_kb < cap_mb * 1024, "RSS over the cap"
assert s["flows_evicted"] > 0, "no evictions counted"
assert s["flows"] >= min(count, 1_000_000) // 2, "the sensor saw too little of the flood to mean anything"
PY
echo "sensor_synflood: ok"
