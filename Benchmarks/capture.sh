# Benchmarks/capture.sh (sourced): the large generated capture both capture benchmarks read, made on first
# use from the shared seed (deterministic; ~1.6 GB at 300 copies). Sets $here $root $dir $copies $cap.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/.." && pwd)
export PATH="/opt/swift/usr/bin:$PATH"
dir=${BENCH_DIR:-/tmp/decnet-bench}
copies=${COPIES:-300}
mkdir -p "$dir"
cap="$dir/generated-$copies.pcap"
if [ ! -s "$cap" ]; then
  python3 "$here/gen_capture.py" "$root/../shared/bench/seed.pcap.gz" "$cap.tmp" --copies "$copies"
  mv "$cap.tmp" "$cap"
fi
