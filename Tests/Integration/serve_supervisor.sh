#!/usr/bin/env bash
# serve_supervisor.sh (issue 16): the decoys run in a supervised child. A trap in it (SIGILL, what a Swift
# runtime trap raises) brings the decoys back within seconds; five failures within a minute are reported
# once as a crash loop; SIGTERM to `decnet serve` stops both processes cleanly.
source "$(dirname "$0")/lib.sh"
make_bridge
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"
D1=$NET.10
"$DECNET" deploy $DK -n 1 -i "$BR" --ip-start "$D1" --services http,redis >/dev/null
# A real trap re-executes its faulting instruction and dies; a SIGILL sent with kill(1) is only "handled" by
# the Swift runtime's crash reporter and resumed, so the reporter is off here to let it end the process.
SWIFT_BACKTRACE=enable=no "$DECNET" serve $DK --log-file "$WORK/decoys.log" --artifacts-dir "$WORK/art" 2>"$WORK/serve.err" &
SERVE=$!
PIDS+=("$SERVE")
wait_for "$WORK/serve.err" "serving 1 decky"
child() { pgrep -P "$SERVE" | head -1 || true; }
C=$(child)
[ -n "$C" ] || { echo "supervisor: no decoy process under $SERVE"; exit 1; }
curl -fsS -m 3 "http://$D1/" >/dev/null
for i in 1 2 3 4 5; do
  t0=$(date +%s.%N)
  kill -ILL "$C"
  for _ in $(seq 200); do
    N=$(child)
    if [ -n "$N" ] && [ "$N" != "$C" ] && curl -fsS -m 1 "http://$D1/" >/dev/null 2>&1; then break; fi
    sleep 0.05
  done
  [ -n "$N" ] && [ "$N" != "$C" ] || { echo "supervisor: decoys not back after crash $i"; cat "$WORK/serve.err"; exit 1; }
  t1=$(date +%s.%N)
  echo "crash $i: decoys answering again after $(echo "$t1 - $t0" | bc | cut -c1-4) s"
  if [ "$i" = 1 ]; then
    [ "$(echo "$t1 - $t0 < 5" | bc)" = 1 ] || { echo "supervisor: the first restart took more than 5 s"; exit 1; }
  fi
  C=$N
done
grep -q "killed by signal 4" "$WORK/serve.err" || { echo "supervisor: the crash was not logged"; cat "$WORK/serve.err"; exit 1; }
[ "$(grep -c "crash loop" "$WORK/serve.err")" = 1 ] || { echo "supervisor: want exactly one crash-loop report"; cat "$WORK/serve.err"; exit 1; }
kill -TERM "$SERVE"
rc=0; wait "$SERVE" || rc=$?
[ "$rc" = 0 ] || { echo "supervisor: exit status $rc after SIGTERM"; cat "$WORK/serve.err"; exit 1; }
! kill -0 "$C" 2>/dev/null || { echo "supervisor: the decoy process outlived its supervisor"; exit 1; }
"$DECNET" teardown $DK --all >/dev/null
echo "serve_supervisor: all passed"
