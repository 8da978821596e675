#!/usr/bin/env bash
# Benchmarks/parent.sh: this tree's decnet against another build of decnet (the parent commit's, or any
# BASE binary), in the same run, alternately, on the same inputs: sniff throughput (with the bare libpcap
# loop as the floor), bus publish->subscribe msgs/s, store ingest events/s. Prints medians and ratios.
#   Benchmarks/parent.sh BASE_DECNET [NEW_DECNET]     env: RUNS (5), COPIES (100), BUS_MSGS (400000), EVENTS (500000)
# Build the base with e.g. `git worktree add /tmp/base <commit> && (cd /tmp/base && swift build -c release)`.
set -euo pipefail
base=$1
source "$(dirname "$0")/capture.sh"
new=${2:-$root/.build/release/decnet}
runs=${RUNS:-5}
msgs=${BUS_MSGS:-400000}
events=${EVENTS:-500000}
work=$(mktemp -d /tmp/decnet-parent.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
gcc -O2 -o "$work/pcap_floor" "$here/pcap_floor.c" -lpcap
gcc -O2 -pthread -o "$work/bus_bench" "$here/bus/bus_bench.c"
cat "$cap" >/dev/null
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

declare -a fl sb sn bb bn stb stn
for i in $(seq "$runs"); do
  read -r packets _ f < <("$work/pcap_floor" "$cap"); fl+=("$f")
  sb+=("$(secs "$base" sniff --quiet --read "$cap" --out "$work/base.jsonl" 2>/dev/null)")
  sn+=("$(secs "$new" sniff --quiet --read "$cap" --out "$work/new.jsonl" 2>/dev/null)")
done
cmp -s <(sort "$work/base.jsonl") <(sort "$work/new.jsonl") && same=identical || same=DIFFERENT

for who in base new; do
  bin=$base; [ $who = new ] && bin=$new
  DECNET_USER=nobody-such "$bin" bus --socket "$work/$who.sock" --group "" --heartbeat 0 2>/dev/null & pids+=($!)
done
for _ in $(seq 100); do [ -S "$work/base.sock" ] && [ -S "$work/new.sock" ] && break; sleep 0.1; done
for i in $(seq "$runs"); do
  bb+=("$("$work/bus_bench" decnet "$work/base.sock" 4 200 "$msgs" | sed -E 's/.*delivered_per_s=([0-9]+).*/\1/')")
  bn+=("$("$work/bus_bench" decnet "$work/new.sock" 4 200 "$msgs" | sed -E 's/.*delivered_per_s=([0-9]+).*/\1/')")
done
for i in $(seq "$runs"); do
  rm -f "$work"/s.db*
  stb+=("$("$base" store bench --db "$work/s.db" --events "$events" | sed -E 's/.* ([0-9]+) events\/s.*/\1/')")
  rm -f "$work"/s.db*
  stn+=("$("$new" store bench --db "$work/s.db" --events "$events" | sed -E 's/.* ([0-9]+) events\/s.*/\1/')")
done

m() { printf '%s\n' "$@" | median; }
F=$(m "${fl[@]}"); SB=$(m "${sb[@]}"); SN=$(m "${sn[@]}")
BB=$(m "${bb[@]}"); BN=$(m "${bn[@]}"); TB=$(m "${stb[@]}"); TN=$(m "${stn[@]}")
printf 'capture %s (%d packets), %d runs each, alternating; output %s\n' "$cap" "$packets" "$runs" "$same"
printf 'sniff   floor %.3f s | base %.3f s (ratio to floor %.3f) | new %.3f s (ratio to floor %.3f) | new/base throughput %.3f\n' \
  "$F" "$SB" "$(echo "$F / $SB" | bc -l)" "$SN" "$(echo "$F / $SN" | bc -l)" "$(echo "$SB / $SN" | bc -l)"
printf 'bus     4 subscribers, 200 B: base %d msgs/s | new %d msgs/s | new/base %.3f\n' "$BB" "$BN" "$(echo "$BN / $BB" | bc -l)"
printf 'store   %d events: base %d events/s | new %d events/s | new/base %.3f\n' "$events" "$TB" "$TN" "$(echo "$TN / $TB" | bc -l)"
printf 'runs    sniff base: %s | sniff new: %s | bus base: %s | bus new: %s | store base: %s | store new: %s\n' \
  "${sb[*]}" "${sn[*]}" "${bb[*]}" "${bn[*]}" "${stb[*]}" "${stn[*]}"
