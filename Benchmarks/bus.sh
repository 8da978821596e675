#!/usr/bin/env bash
# Benchmarks/bus.sh: publish->subscribe throughput and latency for our broker, the original DECNET broker
# (PyPI `decnet`, its `decnet bus`) and nats-server (Debian), all in one run, same load generator
# (Benchmarks/bus/bus_bench.c, which speaks both framings). Prints one line per run and the ratios.
#   Benchmarks/bus.sh [MESSAGES_FAST] [MESSAGES_ORIGINAL]
# Not part of CI (installs the original's ~40 Python dependencies into a venv and takes a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
FAST=${1:-400000}
ORIG=${2:-20000}
VENV=${DECNET_ORIG_VENV:-/opt/decnet-orig-venv}
work=$(mktemp -d /tmp/decnet-busbench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v nats-server >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null; }
if [ ! -x "$VENV/bin/decnet" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q decnet
fi
swift build -c release --product decnet >/dev/null
gcc -O2 -pthread -o "$work/bus_bench" Benchmarks/bus/bus_bench.c

.build/release/decnet bus --socket "$work/ours.sock" --group "" --heartbeat 0 2>/dev/null & pids+=($!)
DECNET_TESTING=1 "$VENV/bin/decnet" bus --socket "$work/orig.sock" --group "" >/dev/null 2>&1 & pids+=($!)
nats-server -a 127.0.0.1 -p 14999 >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -S "$work/ours.sock" ] && [ -S "$work/orig.sock" ] && break; sleep 0.1; done
sleep 1

printf "%-8s %5s %6s %12s %10s %10s %8s\n" broker subs bytes "msgs/s" "p50 us" "p99 us" loss
declare -A rate
for bytes in 200 4096; do
  for subs in 1 4 16; do
    n=$FAST; o=$ORIG
    if [ "$bytes" -gt 1000 ]; then n=$((FAST / 4)); o=$((ORIG / 4)); fi
    for broker in ours orig nats; do
      case $broker in
        ours) out=$("$work/bus_bench" decnet "$work/ours.sock" "$subs" "$bytes" "$n") ;;
        orig) out=$("$work/bus_bench" decnet "$work/orig.sock" "$subs" "$bytes" "$o") ;;
        nats) out=$("$work/bus_bench" nats 127.0.0.1:14999 "$subs" "$bytes" "$n") ;;
      esac
      r=$(sed -E 's/.*delivered_per_s=([0-9]+).*/\1/' <<<"$out")
      p50=$(sed -E 's/.*p50_us=([0-9.]+).*/\1/' <<<"$out")
      p99=$(sed -E 's/.*p99_us=([0-9.]+).*/\1/' <<<"$out")
      loss=$(sed -E 's/.*loss=([0-9.]+).*/\1/' <<<"$out")
      rate[$broker]=$r
      printf "%-8s %5s %6s %12s %10s %10s %8s\n" "$broker" "$subs" "$bytes" "$r" "$p50" "$p99" "$loss"
    done
    awk -v a="${rate[ours]}" -v b="${rate[orig]}" -v c="${rate[nats]}" -v s="$subs" -v z="$bytes" \
      'BEGIN { printf "ratio    %5s %6s  ours/original = %.1fx   ours/nats = %.2fx\n", s, z, a / b, a / c }'
  done
done
