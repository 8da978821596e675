#!/usr/bin/env bash
# sensor_bad_input.sh: operator mistakes get one clear line and a distinct exit code, never a trace.
source "$(dirname "$0")/lib.sh"
expect() {   # expect CODE PATTERN -- command...
  local code=$1 pat=$2; shift 3
  set +e; "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?; set -e
  local lines; lines=$(wc -l <"$WORK/err")
  if [ $rc -ne "$code" ] || ! grep -q -- "$pat" "$WORK/err" || [ "$lines" -ne 1 ]; then
    echo "FAIL: $* -> rc $rc (want $code), $lines line(s):"; cat "$WORK/err"; exit 1
  fi
  echo "ok   rc $rc: $(cat "$WORK/err")"
}
args=(--log-file "$WORK/e.log" --no-store --stats-interval 0)
expect 66 "no such interface: ${PFX}zz" -- "$DECNET" sensor --interface "${PFX}zz" "${args[@]}"
expect 64 'bad BPF filter "tcp port nope"' -- "$DECNET" sensor --interface lo --bpf "tcp port nope" "${args[@]}"
expect 64 "no interface" -- "$DECNET" sensor "${args[@]}"
expect 64 "expected NAME=IP with an IPv4 or IPv6 address" -- "$DECNET" sensor --interface lo --decky "x=300.1.1.1" "${args[@]}"
printf '[sensor]\nbuffer_mb = lots\n' >"$WORK/bad.ini"
expect 64 "bad.ini:2: buffer_mb must be an integer" -- "$DECNET" sensor --config "$WORK/bad.ini" "${args[@]}"
chmod 755 "$WORK"
expect 77 "not permitted" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$DECNET" sensor --interface lo --log-file "$WORK/nobody.log" --no-store --stats-interval 0
echo "sensor_bad_input: ok"
