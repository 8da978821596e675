#!/usr/bin/env bash
# serve_supervisor.sh (issue 16): the decoys run in supervised child processes, deckies split among them by
# name. A trap in one (SIGILL, what a Swift runtime trap raises) takes down only that process's deckies: the
# others keep answering, and the crashed ones are back within seconds; five failures within a minute are
# reported once as a crash loop; SIGTERM to `decnet serve` stops every process cleanly.
source "$(dirname "$0")/lib.sh"
make_bridge
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"
cat >"$WORK/fleet.ini" <<INI
[general]
net = $NET.0/24
interface = $BR
INI
# Two deckies that land in different shards of two (FNV-1a of the name, as DeckyService.shard(of:count:)).
names=$(python3 - <<'PY'
def shard(n):
    h = 0xcbf29ce484222325
    for b in n.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h % 2
a = next(f"web{i}" for i in range(100) if shard(f"web{i}") == 0)
b = next(f"web{i}" for i in range(100) if shard(f"web{i}") == 1)
print(a, b)
PY
)
read -r A B <<<"$names"
IPA=$NET.10 IPB=$NET.11
printf '[%s]\nip = %s\nservices = http\n[%s]\nip = %s\nservices = http\n' "$A" "$IPA" "$B" "$IPB" >>"$WORK/fleet.ini"
"$DECNET" deploy $DK --config "$WORK/fleet.ini" >/dev/null
# A real trap re-executes its faulting instruction and dies; a SIGILL sent with kill(1) is only "handled" by
# the Swift runtime's crash reporter and resumed, so the reporter is off here to let it end the process.
SWIFT_BACKTRACE=enable=no "$DECNET" serve $DK --decoy-processes 2 --log-file "$WORK/decoys.log" --artifacts-dir "$WORK/art" 2>"$WORK/serve.err" &
SERVE=$!
PIDS+=("$SERVE")
wait_for "$WORK/serve.err" "serving $A "
wait_for "$WORK/serve.err" "serving $B "
server_of() { grep "decnet.deckies - serving $1 " "$WORK/serve.err" | tail -1 | awk '{print $5}'; }
[ "$(pgrep -P "$SERVE" | wc -l)" = 2 ] || { echo "supervisor: want 2 decoy processes"; exit 1; }
PA=$(server_of "$A"); PB=$(server_of "$B")
[ -n "$PA" ] && [ -n "$PB" ] && [ "$PA" != "$PB" ] || { echo "supervisor: $A and $B should be served by two processes ($PA, $PB)"; exit 1; }
curl -fsS -m 3 "http://$IPA/" >/dev/null && curl -fsS -m 3 "http://$IPB/" >/dev/null
for i in 1 2 3 4 5; do
  t0=$(date +%s.%N)
  kill -ILL "$PA"
  # The other process's decky never stops answering.
  curl -fsS -m 2 "http://$IPB/" >/dev/null || { echo "supervisor: $B stopped answering when $A's process crashed"; exit 1; }
  N=""
  for _ in $(seq 300); do
    N=$(server_of "$A")
    if [ -n "$N" ] && [ "$N" != "$PA" ] && curl -fsS -m 1 "http://$IPA/" >/dev/null 2>&1; then break; fi
    N=""
    sleep 0.05
  done
  [ -n "$N" ] || { echo "supervisor: $A not back after crash $i"; cat "$WORK/serve.err"; exit 1; }
  t1=$(date +%s.%N)
  echo "crash $i: $A answering again after $(echo "$t1 - $t0" | bc | cut -c1-4) s; $B untouched (pid $PB)"
  if [ "$i" = 1 ]; then
    [ "$(echo "$t1 - $t0 < 5" | bc)" = 1 ] || { echo "supervisor: the first restart took more than 5 s"; exit 1; }
  fi
  [ "$(server_of "$B")" = "$PB" ] && kill -0 "$PB" || { echo "supervisor: $B's process was restarted too"; exit 1; }
  PA=$N
done
grep -q "killed by signal 4" "$WORK/serve.err" || { echo "supervisor: the crash was not logged"; cat "$WORK/serve.err"; exit 1; }
[ "$(grep -c "crash loop" "$WORK/serve.err")" = 1 ] || { echo "supervisor: want exactly one crash-loop report"; cat "$WORK/serve.err"; exit 1; }
kill -TERM "$SERVE"
rc=0; wait "$SERVE" || rc=$?
[ "$rc" = 0 ] || { echo "supervisor: exit status $rc after SIGTERM"; cat "$WORK/serve.err"; exit 1; }
! kill -0 "$PA" 2>/dev/null && ! kill -0 "$PB" 2>/dev/null || { echo "supervisor: a decoy process outlived its supervisor"; exit 1; }
"$DECNET" teardown $DK --all >/dev/null
echo "serve_supervisor: all passed"
