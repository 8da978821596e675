#!/usr/bin/env bash
# deckies_bad_input.sh: bad requests are refused before anything is created (every problem listed, exit
# 64), and attacker bytes against every live decoy (invalid UTF-8, oversize lines, truncated packets,
# slow drip, connection floods) leave the serving process alive, its memory bounded, and events flowing.
source "$(dirname "$0")/lib.sh"
make_bridge
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"

echo "-- refused before anything is created"
expect_refusal() {   # expect_refusal "needle|needle2" args...
  local needles=$1; shift
  local before; before=$(ip netns list | grep -c "^${PFX}-" || true)
  set +e; "$DECNET" deploy $DK "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?; set -e
  [ $rc = 64 ] || { echo "exit $rc for: $*"; cat "$WORK/err"; exit 1; }
  IFS='|' read -ra ns <<<"$needles"
  for n in "${ns[@]}"; do grep -q -- "$n" "$WORK/err" || { echo "missing '$n' for: $*"; cat "$WORK/err"; exit 1; }; done
  [ "$(ip netns list | grep -c "^${PFX}-" || true)" = "$before" ] || { echo "something was created or removed"; exit 1; }
}
expect_refusal "interface nosuch0 does not exist" -n 2 -i nosuch0 --subnet "$NET.0/24"
expect_refusal "unknown service 'gopher'|unknown archetype 'mainframe'" -n 2 -i "$BR" --services http,gopher --archetype mainframe
cat >"$WORK/bad.ini" <<EOF
[general]
net = $NET.0/24
interface = $BR
[a]
ip = $NET.20
services = http
[b]
ip = $NET.20
services = smb
[a]
services = ftp
EOF
expect_refusal "$NET.20 is already used by a|decky name 'a' is given twice|service 'smb' is not available" --config "$WORK/bad.ini"
expect_refusal "overlaps the loopback range" -n 1 -i "$BR" --subnet 127.0.0.0/8
ip link add "${PFX}x" type veth peer name "${PFX}y"
expect_refusal "subnet $NET.0/25 overlaps $NET.0/24 on $BR" -n 1 -i "${PFX}x" --subnet "$NET.0/25"
"$DECNET" deploy $DK -n 1 -i "$BR" --ip-start "$NET.30" --services ftp >/dev/null
expect_refusal "already deployed on $BR $NET.0/24" -n 1 -i "$BR" --subnet 10.254.254.0/24
[ "$(ip netns list | grep -c "^${PFX}-")" = 1 ] || { echo "the deployed decky was lost"; exit 1; }
"$DECNET" teardown $DK --all >/dev/null

echo "-- hostile bytes against every decoy"
"$DECNET" deploy $DK -n 1 -i "$BR" --ip-start "$NET.40" --services telnet,http,ftp,smtp,redis,mysql >/dev/null
start_serve 1
RSS0=$(awk '/^VmRSS/ {print $2}' /proc/$SERVE/status)
python3 - "$NET.40" <<'PY'
import socket, sys, time, os, threading
ip = sys.argv[1]
ports = [23, 80, 21, 25, 6379, 3306]
rnd = os.urandom
def conn(p):
    s = socket.create_connection((ip, p), timeout=5)
    s.settimeout(2)
    return s
def attack(p, payload, drip=False, close_early=False):
    try:
        s = conn(p)
        if drip:
            for b in payload:
                s.send(bytes([b])); time.sleep(0.01)
        else:
            s.sendall(payload)
        if not close_early:
            try: s.recv(65536)
            except Exception: pass
        s.close()
    except (ConnectionError, socket.timeout, OSError):
        pass   # the decoy may close on us: that is a valid answer
for p in ports:
    attack(p, b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\r\n" * 50)               # invalid UTF-8
    attack(p, b"A" * (2 << 20))                                                # 2 MiB, no newline
    attack(p, b"B" * 70000 + b"\r\n" * 3)                                      # oversize line
    attack(p, rnd(65536))                                                      # noise
    attack(p, b"\x10\x00\x00\x01\x05", close_early=True)                      # truncated packet
    attack(p, b"GET / HTTP/1.1\r\nHost: x\r\n\r\nUSER a\r\n", drip=True)     # slow drip
try:                                                                           # past the 16 MiB per-session cap
    s = socket.create_connection((ip, 23), timeout=60); s.sendall(b"C" * (17 << 20)); s.shutdown(socket.SHUT_WR)
    while s.recv(65536): pass     # read what the server sent, so close() is a FIN, not a RST
    s.close()
except OSError:
    pass
# a connection flood: more than the per-decky limit at once, all held open
held = []
for i in range(300):
    try: held.append(conn(80))
    except OSError: pass
time.sleep(0.5)
for s in held: s.close()
print("attacks sent")
PY
sleep 1
kill -0 "$SERVE" || { echo "serve died"; tail "$WORK/serve.err"; exit 1; }
RSS1=$(awk '/^VmRSS/ {print $2}' /proc/$SERVE/status)
echo "serve RSS ${RSS0} KiB -> ${RSS1} KiB after the attacks"
[ $((RSS1 - RSS0)) -lt $((64 * 1024)) ] || { echo "memory grew by more than 64 MiB"; exit 1; }
# still answering and still logging
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$NET.40/")" = 200 ]
[ "$(redis-cli -h "$NET.40" PING)" = PONG ]
sleep 0.5
python3 - "$WORK/decoys.log.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
kinds = {e["event_type"] for e in ev}
closed = [e for e in ev if e["event_type"].endswith("session.closed")]
reasons = {e["fields"]["reason"] for e in closed}
for svc in ["telnet", "http", "ftp", "smtp", "redis", "mysql"]:
    assert f"{svc}.session.connect" in kinds and f"{svc}.session.closed" in kinds, f"{svc}: no session events"
assert any(e["fields"].get("anomaly") for e in ev), "no anomaly recorded"
assert "size_limit" in reasons, f"no session closed for size: {reasons}"
last = ev[-1]
print(f"{len(ev)} events; close reasons {sorted(reasons)}; anomalies {sorted({e['fields']['anomaly'] for e in ev if e['fields'].get('anomaly')})}")
PY
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
"$DECNET" teardown $DK --all >/dev/null
echo "deckies_bad_input: ok"
