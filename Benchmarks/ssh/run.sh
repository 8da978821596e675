#!/usr/bin/env bash
# Benchmarks/ssh/run.sh: full SSH key exchanges per second, the decoy against the real Debian 12 sshd
# (the floor, measured in the same run, inside the same namespace, reached the same way).
#   ssh-keyscan -t ed25519 performs the whole exchange the 9.2 client would (sntrup761x25519-sha512,
#   host-key signature verified) and disconnects: the work both servers do is the same.
# env: N (handshakes per stream, 200), STREAMS (parallel streams, 1 and 8), RUNS (3).
# Root: namespaces. Not in CI. Results: Benchmarks/README.md.
set -euo pipefail
source "$(dirname "$0")/../../Tests/Integration/lib.sh"
N=${N:-200} RUNS=${RUNS:-3}
make_bridge
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"
D=$NET.10
printf '[general]\nnet = %s.0/24\ninterface = %s\n\n[deb]\nip = %s\ndistro = debian\nservices = ssh\n' "$NET" "$BR" "$D" >"$WORK/fleet.ini"
"$DECNET" deploy $DK --config "$WORK/fleet.ini" >/dev/null
"$DECNET" serve $DK --log-file "$WORK/decoys.log" --artifacts-dir "$WORK/art" 2>"$WORK/serve.err" &
PIDS+=($!)
wait_for "$WORK/serve.err" "serving 1 decky"
# the real sshd in the decky's namespace, port 2222
mkdir -p "$WORK/sshd" /run/sshd
for t in rsa ecdsa ed25519; do ssh-keygen -q -t $t -N '' -f "$WORK/sshd/ssh_host_${t}_key"; done
printf '%s\n' "Port 2222" "ListenAddress $D" "HostKey $WORK/sshd/ssh_host_rsa_key" "HostKey $WORK/sshd/ssh_host_ecdsa_key" \
  "HostKey $WORK/sshd/ssh_host_ed25519_key" "UsePAM yes" "KbdInteractiveAuthentication no" "MaxStartups 100:30:200" \
  "PidFile $WORK/sshd/pid" >"$WORK/sshd/sshd_config"
ip netns exec "${PFX}-deb" /usr/sbin/sshd -D -f "$WORK/sshd/sshd_config" -E "$WORK/sshd/log" &
PIDS+=($!)
for _ in $(seq 50); do ssh-keyscan -p 2222 "$D" >/dev/null 2>&1 && break; sleep 0.1; done
ssh-keyscan -p 22 "$D" >/dev/null 2>&1     # the decoy's host keys exist before timing

# stream PORT COUNT: COUNT sequential full exchanges; fails if one did not return a key
stream() {
  local port=$1 count=$2 ok=0
  for _ in $(seq "$count"); do ssh-keyscan -T 5 -t ed25519 -p "$port" "$D" 2>/dev/null | grep -q ssh-ed25519 && ok=$((ok + 1)); done
  [ "$ok" = "$count" ] || { echo "only $ok of $count exchanges completed on port $port" >&2; return 1; }
}
cpu_ticks() {  # utime + stime + children's (sshd reaps its per-connection children) of a pid
  awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"
}
HZ=$(getconf CLK_TCK)
measure() {   # port server-pid streams -> "handshakes/s server-cpu-ms-per-handshake"
  local port=$1 spid=$2 streams=$3 t0 t1 c0 c1 pids=()
  c0=$(cpu_ticks "$spid"); t0=$(date +%s.%N)
  for _ in $(seq "$streams"); do stream "$port" "$N" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p"; done
  t1=$(date +%s.%N); c1=$(cpu_ticks "$spid")
  echo "$(echo "scale=1; $N * $streams / ($t1 - $t0)" | bc) $(echo "scale=2; ($c1 - $c0) * 1000 / $HZ / ($N * $streams)" | bc)"
}
SERVE_PID=${PIDS[0]} SSHD_PID=${PIDS[1]}
echo "wall rate is bounded by ssh-keyscan (the client's sntrup761 key generation) on the same 2 cores;"
echo "server CPU per exchange is what each server spends."
printf '%-8s %-4s %10s %10s %13s %13s %9s\n' streams run "sshd hs/s" "decoy hs/s" "sshd cpu ms" "decoy cpu ms" "cpu ratio"
for streams in 1 8; do
  for r in $(seq "$RUNS"); do
    read -r real realcpu < <(measure 2222 "$SSHD_PID" "$streams")
    read -r decoy decoycpu < <(measure 22 "$SERVE_PID" "$streams")
    printf '%-8s %-4s %10s %10s %13s %13s %9s\n' "$streams" "$r" "$real" "$decoy" "$realcpu" "$decoycpu" \
      "$(echo "scale=2; $decoycpu / $realcpu" | bc)"
  done
done
# resident memory of the decoy process after the runs
echo "decnet serve RSS: $(ps -o rss= -p "${PIDS[0]}" | tr -d ' ') KiB"
