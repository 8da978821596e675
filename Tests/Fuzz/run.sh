#!/usr/bin/env bash
# Tests/Fuzz/run.sh [SECONDS_PER_HARNESS] [HARNESS...]: build each libFuzzer harness with ASan+UBSan
# against the C core and run it for a bounded time, seeded with the shared corpus captures.
# Exit status is non-zero on any crash, leak, timeout or sanitizer report.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-10}
shift || true
cc=${FUZZ_CC:-/opt/swift/usr/bin/clang}
build=${FUZZ_BUILD:-$root/.build-fuzz}
mkdir -p "$build"
# The packet core's parsers, and the decoys' wire crypto (fuzz_ssh_packet: the SSH decoy's packet decoder).
src=$(find "$root/Sources/CPacket" "$root/Sources/CDecoyCrypto" -name '*.c' | sort)
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  harnesses=($(cd "$here" && ls fuzz_*.c | sed 's/\.c$//'))
fi
seeds="$build/seeds"
mkdir -p "$seeds"
corpus="$root/../shared/corpus/pcap"
if [ -d "$corpus" ]; then cp -f "$corpus"/* "$seeds"/ 2>/dev/null || true; fi
status=0
for h in "${harnesses[@]}"; do
  bin="$build/$h"
  "$cc" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
     -I"$root/Sources/CPacket/include" -I"$root/Sources/CDecoyCrypto/include" "$here/$h.c" $src -lpcap -lssl -lcrypto -lcrypt -lbrotlidec -lz -lpthread -o "$bin" 2> "$build/$h.build.log" \
     || { echo "fuzz: $h: build failed"; cat "$build/$h.build.log"; exit 1; }
  work="$build/$h.corpus"
  mkdir -p "$work"
  echo "fuzz: $h for ${secs}s"
  # Inputs that once crashed a harness (Tests/Fuzz/regressions/<harness>/) run first, every time.
  regress=()
  if [ -d "$here/regressions/$h" ]; then regress=("$here/regressions/$h"); fi
  if ! (cd "$build" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 "$work" "$seeds" "${regress[@]}" > "$build/$h.log" 2>&1); then
    echo "fuzz: $h FAILED"; tail -40 "$build/$h.log"; status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$build/$h.log" | tr '\n' ' '; echo
  fi
done
exit $status
