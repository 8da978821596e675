#!/usr/bin/env bash
# deckies_idle_flood.sh (issue 16): 2,000 idle connections from one source used to silence every service of
# a decky (256 connections per decky) and could exhaust the descriptors of every decky at once. With
# per-source and per-service budgets, while one source holds its sockets open, another source reaches every
# other decky and every service of the flooded one.
source "$(dirname "$0")/lib.sh"
make_bridge
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"
D1=$NET.10 D2=$NET.11 FLOOD=$NET.2 OTHER=$NET.3
ip addr add "$FLOOD/24" dev "$BR"
ip addr add "$OTHER/24" dev "$BR"
"$DECNET" deploy $DK -n 2 -i "$BR" --ip-start "$D1" --services http,redis,ftp >/dev/null
start_serve 2
python3 - "$D1" "$FLOOD" "$OTHER" "$D2" <<'PY'
import resource, socket, sys, time
d1, flood, other, d2 = sys.argv[1:]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
held = []
for i in range(2000):
    port = (80, 6379, 21)[i % 3]
    try:
        s = socket.socket(); s.settimeout(3); s.bind((flood, 0)); s.connect((d1, port)); held.append(s)
    except OSError:
        pass
time.sleep(1.0)
def answers(ip, port, send, want):
    s = socket.socket(); s.settimeout(3); s.bind((other, 0)); s.connect((ip, port))
    if send: s.sendall(send)
    data = b""
    t = time.time()
    while want not in data and time.time() - t < 3:
        b = s.recv(4096)
        if not b: break
        data += b
    s.close()
    return want in data
fails = []
for ip in (d1, d2):
    for port, send, want in ((80, b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1."), (6379, b"PING\r\n", b"+PONG"), (21, b"", b"220")):
        ok = answers(ip, port, send, want)
        print(f"{'ok  ' if ok else 'FAIL'} {ip}:{port} answers another source while {len(held)} idle sockets are held")
        if not ok: fails.append((ip, port))
for s in held: s.close()
sys.exit(1 if fails else 0)
PY
kill -0 "$SERVE" || { echo "serve died under the idle flood"; cat "$WORK/serve.err"; exit 1; }
grep -q "open files limit: " "$WORK/serve.err" || { echo "serve did not log its open files limit"; exit 1; }
"$DECNET" teardown $DK --all >/dev/null
echo "deckies_idle_flood: all passed"
