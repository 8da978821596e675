#!/usr/bin/env bash
# Tests/Fuzz/truncation.sh: run every corpus capture, whole and cut at 20 random offsets each, through
# the ASan+UBSan build of the whole pipeline (the fuzz_capture_engine harness run on fixed inputs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD:-$root/.build-fuzz}
bin="$build/fuzz_capture_engine"
[ -x "$bin" ] || "$here/run.sh" 1 fuzz_capture_engine >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for f in "$root"/../shared/corpus/pcap/*; do
  size=$(stat -c %s "$f")
  cp "$f" "$work/$(basename "$f").whole"
  for i in $(seq 1 20); do
    cut=$(( (RANDOM * 32768 + RANDOM) % size ))
    head -c "$cut" "$f" > "$work/$(basename "$f").$cut"
  done
done
n=$(ls "$work" | wc -l)
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$bin" -runs=0 "$work" > "$build/truncation.log" 2>&1 \
  || { echo "truncation: FAILED"; tail -40 "$build/truncation.log"; exit 1; }
echo "truncation: $n inputs (corpus captures whole and truncated) passed under ASan+UBSan"
