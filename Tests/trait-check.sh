#!/usr/bin/env bash
# Tests/trait-check.sh: the FoxIO-licensed JA4+ code really is one flag away. Builds decnet without the
# JA4Plus trait and checks that sniff still emits JA4/JA3/HASSH but no JA4+ field, and that no JA4+ type
# is linked in.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --disable-default-traits --scratch-path .build-noja4plus --product decnet >/dev/null
bin=.build-noja4plus/debug/decnet
out=$("$bin" sniff --read ../shared/corpus/pcap/latest.pcapng --read ../shared/corpus/pcap/ssh-scp-1050.pcap 2>/dev/null)
grep -q '"ja4":"t13d' <<<"$out" || { echo "trait-check: no ja4 without JA4Plus"; exit 1; }
grep -q '"hassh":' <<<"$out" || { echo "trait-check: no hassh without JA4Plus"; exit 1; }
if grep -qE '"(ja4s|ja4h|ja4x|ja4t|ja4ts|ja4l_c|ja4l_s|ja4l|ja4ls|ja4ssh)":' <<<"$out"; then
  echo "trait-check: JA4+ fields emitted without the JA4Plus trait"; exit 1
fi
if nm "$bin" | grep -qE 'JA4SSH|JA4X|JA4H|JA4S[^S]'; then
  echo "trait-check: JA4+ symbols linked without the JA4Plus trait"; exit 1
fi
echo "trait-check: build without JA4Plus emits JA4/JA3/HASSH/p0f only and links no JA4+ code"
