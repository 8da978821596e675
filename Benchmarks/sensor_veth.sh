#!/usr/bin/env bash
# Benchmarks/sensor_veth.sh: lossless capture rate of `decnet sensor` against `tcpdump -w /dev/null` on the
# same veth pair, in the same run. tcpreplay puts the large generated capture (Benchmarks/README.md) onto one
# end at fixed rates and at --topspeed while the contender captures the other end; for each run it prints
# offered pps, packets received, kernel drops and (sensor) ring drops. tcpreplay preloads the capture
# into memory (--preload-pcap) so disk reads do not cap the offered rate. Lossless = every packet tcpreplay
# sent was received, with no kernel or ring drop. Both contenders get the same kernel buffer (-B / buffer_mb).
#   env: BENCH_DIR (/tmp/decnet-bench), COPIES (300), RATES ("100000 300000 1000000 top"), LIMIT (packets
#        per run, default all), BUFFER_MB (64), PIN (0; 1 = sender and contender on separate CPUs)
set -euo pipefail
source "$(dirname "$0")/capture.sh"
rates=${RATES:-"100000 300000 500000 1000000 top"}
buffer=${BUFFER_MB:-64}
# PIN=1: tcpreplay on CPU 0, the contender (all its threads) on CPU 1, so the offered rate does not depend
# on how much CPU the contender takes from the sender.
pin_sender=""; pin_capture=""
if [ "${PIN:-0}" = 1 ]; then pin_sender="taskset -c 0"; pin_capture="taskset -c 1"; fi
command -v tcpreplay >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpreplay >/dev/null; }
(cd "$root" && swift build -c release --product decnet >&2)
decnet="$root/.build/release/decnet"
PFX=dnb$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n' | cut -c1-5)
work=$(mktemp -d /tmp/decnet-bench-veth.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  ip link del "${PFX}a" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
ip link add "${PFX}a" mtu 9000 type veth peer name "${PFX}b" mtu 9000
for l in a b; do sysctl -qw "net.ipv6.conf.${PFX}$l.disable_ipv6=1" || true; ip link set "${PFX}$l" up; done
cat "$cap" >/dev/null
limit=(); [ -n "${LIMIT:-}" ] && limit=(--limit="$LIMIT")

replay() {   # rate -> prints "sent pps"
  local r=$1 speed
  if [ "$r" = top ]; then speed=(--topspeed); else speed=(--pps="$r"); fi
  $pin_sender tcpreplay -i "${PFX}a" --preload-pcap "${speed[@]}" "${limit[@]}" "$cap" >"$work/replay.out" 2>&1
  local sent pps
  sent=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$work/replay.out" | head -1)
  pps=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' "$work/replay.out" | head -1)
  echo "$sent ${pps%.*}"
}

printf "%-9s %-8s %11s %11s %11s %11s %11s  %s\n" contender rate offered_pps sent received kernel_drop ring_drop lossless
best_sensor=0; best_tcpdump=0
for r in $rates; do
  for who in sensor tcpdump; do
    rm -f "$work"/ev.log* "$work"/store.db* "$work/stats.json" "$work/err"
    if [ $who = sensor ]; then
      $pin_capture "$decnet" sensor --interface "${PFX}b" --log-file "$work/ev.log" --db "$work/store.db" --stats-interval 0 \
        --stats-file "$work/stats.json" --config <(printf '[sensor]\nbuffer_mb = %s\n' "$buffer") 2>"$work/err" &
      pid=$!
      for _ in $(seq 100); do grep -q "capturing on" "$work/err" 2>/dev/null && break; sleep 0.1; done
    else
      $pin_capture tcpdump -i "${PFX}b" -s 0 -B $((buffer * 1024)) -w /dev/null 2>"$work/err" &
      pid=$!
      for _ in $(seq 100); do grep -q "listening on" "$work/err" 2>/dev/null && break; sleep 0.1; done
    fi
    read -r sent pps < <(replay "$r")
    sleep 2
    kill -INT "$pid"; wait "$pid" || true; pid=""
    if [ $who = sensor ]; then
      read -r recv kdrop rdrop < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(int(s["packets"]), int(s["kernel_dropped"]), int(s["ring_drops"]))' "$work/stats.json")
    else
      recv=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$work/err"); kdrop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$work/err"); rdrop=-
    fi
    ok=no; [ "$recv" = "$sent" ] && [ "$kdrop" = 0 ] && { [ "$rdrop" = - ] || [ "$rdrop" = 0 ]; } && ok=yes
    if [ $ok = yes ]; then
      if [ $who = sensor ] && [ "$pps" -gt $best_sensor ]; then best_sensor=$pps; fi
      if [ $who = tcpdump ] && [ "$pps" -gt $best_tcpdump ]; then best_tcpdump=$pps; fi
    fi
    printf "%-9s %-8s %11s %11s %11s %11s %11s  %s\n" $who "$r" "$pps" "$sent" "$recv" "$kdrop" "$rdrop" $ok
  done
done
echo "highest lossless offered rate: sensor $best_sensor pps, tcpdump $best_tcpdump pps"
