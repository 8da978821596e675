#!/usr/bin/env bash
# sensor_clients.sh: real clients against real servers in a namespace, the live sensor on the veth, and
# tcpdump on the same veth. The sensor's events must carry the same ja3/ja4/ja3s/ja4s/hassh/hassh_server/
# ja4h/ja4t values that `decnet sniff --read` computes from tcpdump's capture of the same traffic.
#   curl https:// -> openssl s_server;  OpenSSH ssh -> sshd (throw-away config);  curl http:// -> python3 http.server
source "$(dirname "$0")/lib.sh"
make_pair
S=$NET.2
NS=(ip netns exec "${PFX}s")

# servers
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 -subj "/CN=decky.test" 2>/dev/null
"${NS[@]}" openssl s_server -accept 4433 -cert "$WORK/cert.pem" -key "$WORK/key.pem" -www -quiet >/dev/null 2>&1 &
PIDS+=($!)
ssh-keygen -q -t ed25519 -N "" -f "$WORK/hostkey"
mkdir -p /run/sshd
cat >"$WORK/sshd_config" <<CFG
Port 22
ListenAddress $S
HostKey $WORK/hostkey
PidFile $WORK/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
CFG
"${NS[@]}" /usr/sbin/sshd -D -e -f "$WORK/sshd_config" 2>"$WORK/sshd.err" &
PIDS+=($!)
mkdir -p "$WORK/www" && echo hello >"$WORK/www/index.html"
(cd "$WORK/www" && exec "${NS[@]}" python3 -m http.server 8080 --bind "$S" >/dev/null 2>&1) &
PIDS+=($!)
for port in 4433 22 8080; do
  for _ in $(seq 100); do "${NS[@]}" ss -ltn | grep -q ":$port " && break; sleep 0.1; done
done

# captures: the sensor and tcpdump on the same interface
tcpdump -i "${PFX}a" -s 0 -U -w "$WORK/cap.pcap" 2>"$WORK/tcpdump.err" &
TCPDUMP=$!
PIDS+=($TCPDUMP)
wait_for "$WORK/tcpdump.err" "listening on"
start_sensor "${PFX}a" --decky "decky1=$S"

# clients
for i in 1 2; do
  curl -sk --max-time 5 "https://$S:4433/" >/dev/null
  curl -sk --http1.1 --tls-max 1.2 --max-time 5 "https://$S:4433/" >/dev/null
  curl -s --max-time 5 -A "decnet-it/$i" "http://$S:8080/" >/dev/null
  ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 \
      "nobody@$S" true 2>/dev/null || true
done
sleep 1
kill -INT $TCPDUMP; wait $TCPDUMP || true
stop_sensor

"$DECNET" sniff --quiet --read "$WORK/cap.pcap" --out "$WORK/flows.jsonl" 2>/dev/null
echo "sensor events: $(wc -l <"$WORK/events.log.json") lines; by type:"
python3 -c '
import json,sys,collections
c=collections.Counter(json.loads(l)["event_type"] for l in open(sys.argv[1]))
print("  "+" ".join(f"{k}={v}" for k,v in sorted(c.items())))' "$WORK/events.log.json"
python3 "$ROOT/Tests/Integration/compare_events.py" "$WORK/events.log.json" "$WORK/flows.jsonl" \
  --require ja3,ja4,ja3s,ja4s,hassh,hassh_server,ja4h,ja4t,ssh_client_banner
# every event names the decky, and the store holds what the files hold
python3 - "$WORK/events.log.json" "$WORK/events.log" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert ev and all(e["decky"] == "decky1" for e in ev), "an event without the decky name"
rfc = open(sys.argv[2]).read().splitlines()
assert len(rfc) == len(ev), (len(rfc), len(ev))
assert all(l.startswith(("<134>1 ", "<132>1 ")) and " decky1 sniffer - " in l and "[relay@55555 " in l for l in rfc), rfc[0]
print(f"ok: {len(ev)} events name decky1; {len(rfc)} RFC 5424 lines")
PY
n=$("$DECNET" store check --db "$WORK/store.db" | sed -n 's/.*logs=\([0-9]*\).*/\1/p')
[ "$n" = "$(wc -l <"$WORK/events.log.json")" ] || { echo "store has $n rows, files $(wc -l <"$WORK/events.log.json")"; exit 1; }
echo "sensor_clients: ok ($n events in files and store)"
