#!/usr/bin/env bash
# Benchmarks/throughput.sh: packets/s of `decnet sniff` (every fingerprint family on) against the floor,
# a bare libpcap pcap_next_ex loop over the same file, measured in the same run (3 runs each, median,
# warm page cache for both). Generates the capture on first use (deterministic; ~1.6 GB).
#   env: BENCH_DIR (default /tmp/decnet-bench), COPIES (default 300 -> 2,327,700 packets), RUNS (3)
set -euo pipefail
source "$(dirname "$0")/capture.sh"
runs=${RUNS:-3}
gcc -O2 -o "$dir/pcap_floor" "$here/pcap_floor.c" -lpcap
(cd "$root" && swift build -c release --product decnet >&2)
decnet="$root/.build/release/decnet"
cat "$cap" > /dev/null   # warm the page cache for both contenders

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
floor_s=(); sniff_s=()
packets=0
for i in $(seq 1 "$runs"); do
  read -r packets bytes secs < <("$dir/pcap_floor" "$cap")
  floor_s+=("$secs")
  t0=$(date +%s.%N)
  "$decnet" sniff --quiet --read "$cap" --out "$dir/sniff.jsonl" 2> "$dir/sniff.stderr"
  t1=$(date +%s.%N)
  sniff_s+=("$(echo "$t1 - $t0" | bc -l)")
done
fs=$(printf '%s\n' "${floor_s[@]}" | median)
ss=$(printf '%s\n' "${sniff_s[@]}" | median)
fpps=$(echo "$packets / $fs" | bc -l)
spps=$(echo "$packets / $ss" | bc -l)
ratio=$(echo "$spps / $fpps" | bc -l)
flows=$(wc -l < "$dir/sniff.jsonl")
printf 'capture      %s (%d packets, %d bytes)\n' "$cap" "$packets" "$bytes"
printf 'floor        libpcap pcap_next_ex loop   %8.3f s  %12.0f packets/s   runs: %s\n' "$fs" "$fpps" "${floor_s[*]}"
printf 'decnet sniff all families, %d flows  %8.3f s  %12.0f packets/s   runs: %s\n' "$flows" "$ss" "$spps" "${sniff_s[*]}"
printf 'ratio        sniff / floor = %.3f\n' "$ratio"
tail -1 "$dir/sniff.stderr"
