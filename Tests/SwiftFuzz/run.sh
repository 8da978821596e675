#!/usr/bin/env bash
# Tests/SwiftFuzz/run.sh: the Swift side's fuzz harnesses (decnet-fuzz --list), seeded with the committed corpora
# in Tests/SwiftFuzz/corpus/<harness>/.
#   run.sh [SECONDS_PER_HARNESS] [HARNESS...]               deterministic mutation driver, the ordinary debug
#                                                          build (.build/debug/decnet-fuzz, built by swift test)
#   run.sh --libfuzzer SECONDS_PER_HARNESS [HARNESS...]     coverage-guided: builds .build-fuzz with
#                                                          -sanitize=fuzzer,address and runs libFuzzer; new
#                                                          inputs land in .build-fuzz/corpus/<harness>
# Exit status is non-zero on any crash (the input is kept as crash-* in the work directory, printed below).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export PATH="/opt/swift/usr/bin:$PATH"
mode=mutate
if [ "${1:-}" = "--libfuzzer" ]; then mode=libfuzzer; shift; fi
secs=${1:-5}
shift || true
work=${FUZZ_WORK:-$root/.build-fuzz/work}
mkdir -p "$work"
if [ "$mode" = libfuzzer ]; then
  (cd "$root" && swift build --scratch-path .build-fuzz --product decnet-fuzz \
     -Xswiftc -sanitize=fuzzer -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -use-ld=lld -Xcc -fsanitize=fuzzer-no-link -Xcc -fsanitize=address) > "$work/build.log" 2>&1 \
     || { echo "swift fuzz: build failed"; tail -30 "$work/build.log"; exit 1; }
  bin=$root/.build-fuzz/debug/decnet-fuzz
else
  bin=${DECNET_FUZZ_BIN:-$root/.build/debug/decnet-fuzz}
  [ -x "$bin" ] || (cd "$root" && swift build --product decnet-fuzz >/dev/null)
fi
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=($("$root/.build/debug/decnet-fuzz" --list))
status=0
for h in "${harnesses[@]}"; do
  seeds=$here/corpus/$h
  mkdir -p "$seeds"
  if [ "$mode" = libfuzzer ]; then
    out=$root/.build-fuzz/corpus/$h
    mkdir -p "$out"
    if (cd "$work" && DECNET_FUZZ_HARNESS=$h ASAN_OPTIONS=detect_leaks=0 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 \
          -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/crash-$h-" "$out" "$seeds" > "$work/$h.log" 2>&1); then
      echo "swift fuzz: $h: $(grep -E 'stat::number_of_executed_units' "$work/$h.log" | awk '{print $2}') executions, no crash"
    else
      echo "swift fuzz: $h FAILED"; grep -vE '^#[0-9]+' "$work/$h.log" | tail -40; status=1
    fi
  else
    if ! (cd "$work" && "$bin" "$h" --seconds "$secs" --corpus "$seeds"); then
      echo "swift fuzz: $h FAILED (input: $work/crash-$h)"; status=1
    fi
  fi
done
rm -rf /tmp/decnet-fuzz-artifacts-* 2>/dev/null || true
exit $status
