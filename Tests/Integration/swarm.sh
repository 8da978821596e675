#!/usr/bin/env bash
# swarm.sh: a master and two workers, each in its own network namespace on a test LAN (a bridge inside a
# LAN namespace), plus an attacker. Real processes only: `decnet swarmctl` on the master, `decnet join` and
# `decnet agent` on the workers, curl/openssl/nmap/OpenSSH as clients. Checks issue 18's acceptance:
# join (token reuse, a MITM master with another CA, the worker key never on the master), dispatch of 6 deckies
# 3+3 and the attacker's events at the master with the worker's identity, pinning in the handshake (evict,
# worker->worker, unknown master), lossless shipping across a cut link and kill -9 of the master, decommission
# (online and offline), renewal (rekey; the old pin refused after the grace window), and bad input.
source "$(dirname "$0")/lib.sh"
SECONDS=0
LAN=${PFX}lan
M=$NET.2; W1=$NET.3; W2=$NET.4; X=$NET.9
ip netns add "$LAN"
ip -n "$LAN" link add br0 type bridge
ip -n "$LAN" addr add "$NET.1/24" dev br0
ip -n "$LAN" link set br0 up
ip -n "$LAN" link set lo up
# plug(NS, ADDR, NIC): namespace NS with NIC (a veth to the LAN bridge) carrying ADDR/24, default route via .1
plug() {
  ip netns add "$1"
  ip link add "$3" type veth peer name "${3}p"
  ip link set "$3" netns "$1"
  ip link set "${3}p" netns "$LAN"
  ip -n "$LAN" link set "${3}p" master br0 up
  ip -n "$1" addr add "$2/24" dev "$3"
  ip -n "$1" link set "$3" up
  ip -n "$1" link set lo up
  ip -n "$1" route add default via "$NET.1"
  ip netns exec "$1" sysctl -qw "net.ipv6.conf.$3.disable_ipv6=1" || true
}
plug "${PFX}m" "$M" "${PFX}mn"
plug "${PFX}w1" "$W1" "${PFX}1n"
plug "${PFX}w2" "$W2" "${PFX}2n"
plug "${PFX}x" "$X" "${PFX}xn"
# inns NS CMD...: CMD in namespace NS with that namespace's /sys, but the host's mounts otherwise (so the
# namespaces a worker creates for its deckies appear under /run/netns like anyone else's).
inns() {
  local ns=$1; shift
  nsenter --net="/run/netns/$ns" unshare --mount --propagation unchanged \
    sh -c 'mount --make-rprivate /sys && mount -t sysfs none /sys && exec "$@"' sh "$@"
}
# the same for daemons started with `&`: the background subshell becomes the daemon, so $! is its pid
inns_exec() {
  local ns=$1; shift
  exec nsenter --net="/run/netns/$ns" unshare --mount --propagation unchanged \
    sh -c 'mount --make-rprivate /sys && mount -t sysfs none /sys && exec "$@"' sh "$@"
}
MDB=$WORK/master.db; MCA=$WORK/master-ca
MOPT=(--db "$MDB" --ca-dir "$MCA")
# A SIEM for the RFC 5425 export: its own CA, a server certificate for $M, a client certificate for the master (mTLS).
SX=$WORK/siem; mkdir -p "$SX"
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$SX/ca.key" -out "$SX/ca.crt" -subj "/CN=siem test CA" -days 2
for n in srv cli; do
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$SX/$n.key" -out "$SX/$n.csr" -subj "/CN=$n"
  printf "subjectAltName=IP:%s\n" "$M" >"$SX/$n.ext"
  ossl x509 -req -in "$SX/$n.csr" -CA "$SX/ca.crt" -CAkey "$SX/ca.key" -CAcreateserial -out "$SX/$n.crt" -days 2 -extfile "$SX/$n.ext"
done
ip netns exec "${PFX}m" python3 "$ROOT/Tests/Integration/syslog_receiver.py" "$M" 6514 "$SX/srv.crt" "$SX/srv.key" "$SX/frames.txt" "$SX/ca.crt" &
PIDS+=($!)
export DECNET_EXPORT_SYSLOG=$M:6514 DECNET_EXPORT_SYSLOG_CA=$SX/ca.crt DECNET_EXPORT_SYSLOG_CERT=$SX/cli.crt DECNET_EXPORT_SYSLOG_KEY=$SX/cli.key
start_master() {
  inns_exec "${PFX}m" "$DECNET" swarmctl "${MOPT[@]}" --bind "$M:8770" --heartbeat-interval 1 --renewal-grace 3 >>"$WORK/master.out" 2>>"$WORK/master.err" &
  MPID=$!; PIDS+=("$MPID")
  for _ in $(seq 100); do ip netns exec "${PFX}m" curl -sk -m 1 "https://$M:8770/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "swarmctl did not start"; cat "$WORK/master.err"; return 1
}
start_master
msql() { sqlite3 "$MDB" "$1"; }
# master-side commands run in the master's namespace: only addresses inside the test's namespaces are contacted
mctl() { ip netns exec "${PFX}m" "$DECNET" swarm "$@" "${MOPT[@]}"; }

echo "-- join: two workers with tokens; the key is made on the worker"
T1=$(mctl token create --name w1 --ttl 10m)
# w2 joins from an offline bundle (token, master URL, root certificate; never a key)
mctl token create --name w2 --ttl 10m --bundle "$WORK/w2.bundle" --url "https://$M:8770" >/dev/null
[ "$(stat -c %a "$WORK/w2.bundle")" = 600 ]
if grep -q "PRIVATE KEY" "$WORK/w2.bundle"; then echo "a key in the join bundle"; exit 1; fi
inns "${PFX}w1" "$DECNET" join "https://$M:8770" "$T1" --name w1 --agent-dir "$WORK/w1/agent"
inns "${PFX}w2" "$DECNET" join --bundle "$WORK/w2.bundle" --name w2 --agent-dir "$WORK/w2/agent"
[ "$(stat -c %a "$WORK/w1/agent")" = 700 ]
[ "$(stat -c %a "$WORK/w1/agent/worker.key")" = 600 ]
echo "-- a reused token -> 401"
if inns "${PFX}w1" "$DECNET" join "https://$M:8770" "$T1" --name w1b --agent-dir "$WORK/w1b" 2>"$WORK/reuse.err"; then echo "token reuse accepted"; exit 1; fi
grep -q "join refused (401): token already used" "$WORK/reuse.err" || { cat "$WORK/reuse.err"; exit 1; }
echo "-- the worker's private key never existed on the master"
for w in w1 w2; do
  body=$(sed -n 2p "$WORK/$w/agent/worker.key")
  ! grep -rqF "$body" "$MCA" "$MDB" "$WORK/master.out" "$WORK/master.err" || { echo "$w's key found on the master"; exit 1; }
done
[ -z "$(find "$MCA" -name 'worker*')" ]
echo "-- a MITM master with another CA: the worker aborts in the handshake, before sending its proof"
MITM_DB=$WORK/mitm.db
inns_exec "${PFX}m" "$DECNET" swarmctl --db "$MITM_DB" --ca-dir "$WORK/mitm-ca" --bind "$M:8771" >"$WORK/mitm.out" 2>"$WORK/mitm.err" &
PIDS+=($!)
for _ in $(seq 100); do ip netns exec "${PFX}m" curl -sk -m 1 "https://$M:8771/health" >/dev/null 2>&1 && break; sleep 0.1; done
T3=$(mctl token create --name w3 --ttl 10m)
if inns "${PFX}w1" "$DECNET" join "https://$M:8771" "$T3" --name w3 --agent-dir "$WORK/w3" 2>"$WORK/mitm-join.err"; then echo "joined a MITM"; exit 1; fi
grep -q "did not prove the CA named in the token (nothing secret was sent)" "$WORK/mitm-join.err" || { cat "$WORK/mitm-join.err"; exit 1; }
[ "$(sqlite3 "$MITM_DB" "select count(*) from logs where service = 'swarm'")" = 0 ]   # no join request reached it
[ ! -e "$WORK/w3/worker.key" ]
# and the token is still unused at the real master
[ "$(msql "select used_at is null from swarm_tokens where name = 'w3'")" = 1 ]

echo "-- agents"
start_agent() {   # start_agent w1|w2 ADDR
  inns_exec "${PFX}$1" env DECNET_DECOY_LOG_FILE="$WORK/$1/logs/decoys.log" DECNET_INGEST_LOG_FILE="$WORK/$1/logs/decnet.log" \
    DECNET_ARTIFACTS_DIR="$WORK/$1/art" "$DECNET" agent --agent-dir "$WORK/$1/agent" --db "$WORK/$1/store.db" \
    --netns-prefix "${PFX}${1:1}-" ${AGENT_ARGS:-} >"$WORK/$1.out" 2>>"$WORK/$1.err" &
  eval "${1^^}PID=$!"; PIDS+=($!)
  wait_for "$WORK/$1.out" "listening on" 100
}
start_agent w1; start_agent w2
U1=$(msql "select uuid from swarm_hosts where name = 'w1'"); U2=$(msql "select uuid from swarm_hosts where name = 'w2'")
for _ in $(seq 50); do [ "$(msql "select count(*) from swarm_hosts where status = 'active'")" = 2 ] && break; sleep 0.1; done
[ "$(msql "select count(*) from swarm_hosts where status = 'active'")" = 2 ] || { mctl hosts; exit 1; }

echo "-- pinning: the master's certificate may call an agent; another worker's, or another master's, may not"
MC=(--cert "$MCA/master.crt" --key "$MCA/master.key")
[ "$(ip netns exec "${PFX}m" curl -sk "${MC[@]}" -o /dev/null -w '%{http_code}' "https://$W1:8765/health")" = 200 ]
if ip netns exec "${PFX}w2" curl -sk -m 5 --cert "$WORK/w2/agent/worker.crt" --key "$WORK/w2/agent/worker.key" "https://$W1:8765/health"; then
  echo "w2's certificate was accepted by w1's agent"; exit 1; fi
if ip netns exec "${PFX}m" curl -sk -m 5 --cert "$WORK/mitm-ca/master.crt" --key "$WORK/mitm-ca/master.key" "https://$W1:8765/health"; then
  echo "an unknown master's certificate was accepted by w1's agent"; exit 1; fi
if ip netns exec "${PFX}m" curl -sk -m 5 "https://$W1:8765/health"; then echo "no certificate accepted by the agent"; exit 1; fi

echo "-- dispatch: 6 deckies -> 3 per worker; the attacker scans one on w2 and logs into its SSH decoy"
cat >"$WORK/fleet.ini" <<INI
[general]
interface = eth-of-the-master

[d1]
ip = $NET.21
services = ssh,http
[d2]
ip = $NET.22
services = ssh,http
[d3]
ip = $NET.23
services = http
[d4]
ip = $NET.24
services = http
[d5]
ip = $NET.25
services = http
[d6]
ip = $NET.26
services = telnet
INI
mctl deploy --config "$WORK/fleet.ini" | tee "$WORK/dispatch.out"
grep -q "^w1: ok d1,d3,d5 " "$WORK/dispatch.out" && grep -q "^w2: ok d2,d4,d6 " "$WORK/dispatch.out"
[ "$(ip netns list | grep -c "^${PFX}1-")" = 3 ]
[ "$(ip netns list | grep -c "^${PFX}2-")" = 3 ]
[ "$(msql "select count(*) from decky_shards where host_uuid = '$U1' and state = 'running'")" = 3 ]
wait_for "$WORK/w2.err" "serving 3 decky" 100
for _ in $(seq 50); do ip netns exec "${PFX}x" curl -s -m 1 -o /dev/null "http://$NET.22/" && break; sleep 0.1; done
ip netns exec "${PFX}x" nmap -sT -Pn -p 22,80,443 --max-retries 1 "$NET.22" >"$WORK/nmap.out"
grep -q "22/tcp *open" "$WORK/nmap.out" || { cat "$WORK/nmap.out"; exit 1; }
ip netns exec "${PFX}x" sshpass -p admin ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 \
  "root@$NET.22" 'id; uname -a' >"$WORK/ssh.out" 2>&1 || true
T0=$(date +%s.%N)   # the login is over: from here its events must reach the master within 5 s
ip netns exec "${PFX}x" curl -s -m 3 -o /dev/null "http://$NET.21/wp-login.php" || true
for _ in $(seq 100); do
  n=$(msql "select count(*) from logs where origin_host = '$U2' and attacker_ip = '$X' and decky = 'd2' and event_type like '%login%'")
  [ "$n" -gt 0 ] && break; sleep 0.05
done
T1S=$(date +%s.%N)
[ "$n" -gt 0 ] || { echo "the SSH login on w2's decky did not reach the master"; msql "select origin_host, decky, event_type from logs where attacker_ip = '$X' limit 20"; exit 1; }
python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); print(f'   the SSH login was at the master {d:.2f} s after the session ended'); assert d < 5" "$T0" "$T1S"
for _ in $(seq 100); do [ "$(msql "select count(*) from logs where origin_host = '$U1' and attacker_ip = '$X' and decky = 'd1'")" -gt 0 ] && break; sleep 0.05; done
[ "$(msql "select count(distinct origin_host) from logs where attacker_ip = '$X' and origin_host is not null")" = 2 ]

echo "-- check and mutate through the workers' agents"
mctl check | tee "$WORK/check.out"
grep -q "^w1: reachable ok" "$WORK/check.out"
grep -q "^w2: reachable ok" "$WORK/check.out"
mctl mutate d4 | tee "$WORK/mutate.out"
grep -q "^d4@w2: http -> " "$WORK/mutate.out"

echo "-- the master's API and dashboard: the attacker's traversal across both workers, the swarm page"
"$DECNET" profiler --db "$MDB" --once >/dev/null 2>"$WORK/profiler.err"
ip netns exec "${PFX}m" env DECNET_JWT_SECRET=integration-secret-0123456789abcdefghij DECNET_ADMIN_PASSWORD=initial-admin-pw \
  "$DECNET" api --db "$MDB" --bind 127.0.0.1:0 --port-file "$WORK/api.port" --swarm-ca-dir "$MCA" 2>"$WORK/api.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/api.port" ] && break; sleep 0.1; done
ip netns exec "${PFX}m" python3 - "$(tr -d '\n' <"$WORK/api.port")" "$X" <<'PY'
import http.client, json, re, sys, urllib.parse
port, attacker = int(sys.argv[1]), sys.argv[2]
def call(method, path, body=None, headers=None, ctype="application/json"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = dict(headers or {})
    if body is not None: h["Content-Type"] = ctype
    c.request(method, path, body=body, headers=h)
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, r, data
s, _, d = call("POST", "/api/v1/auth/login", json.dumps({"username": "admin", "password": "initial-admin-pw"}))
tok = json.loads(d)["access_token"]
call("POST", "/api/v1/auth/change-password", json.dumps({"old_password": "initial-admin-pw", "new_password": "integration-admin-pw"}),
     {"Authorization": "Bearer " + tok})
s, _, d = call("POST", "/api/v1/auth/login", json.dumps({"username": "admin", "password": "integration-admin-pw"}))
tok = json.loads(d)["access_token"]
auth = {"Authorization": "Bearer " + tok}
s, _, d = call("GET", "/api/v1/swarm/hosts", headers=auth)
hosts = json.loads(d)
assert s == 200 and sorted(h["name"] for h in hosts) == ["w1", "w2"] and all(h["status"] == "active" for h in hosts), hosts
s, _, d = call("GET", "/api/v1/swarm/deckies", headers=auth)
shards = json.loads(d)
per = {}
for x in shards: per.setdefault(x["host_name"], []).append(x["decky_name"])
assert {k: sorted(v) for k, v in per.items()} == {"w1": ["d1", "d3", "d5"], "w2": ["d2", "d4", "d6"]}, per
s, _, d = call("GET", "/api/v1/attackers?search=" + attacker, headers=auth)
a = [x for x in json.loads(d)["data"] if x["ip"] == attacker][0]
s, _, d = call("GET", "/api/v1/attackers/" + a["uuid"], headers=auth)
detail = json.loads(d)
hops = {t.get("host") for t in detail["timeline"] if t["kind"] == "hop"}
assert {"w1", "w2"} <= hops, hops
# the dashboard: log in with the page's CSRF token, then the attacker page and the swarm page
s, r, page = call("GET", "/login")
csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
cookie = r.getheader("Set-Cookie").split(";")[0]
s, r, _ = call("POST", "/login", f"username=admin&password=integration-admin-pw&csrf={csrf}".encode(),
               {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}, "application/x-www-form-urlencoded")
session = r.getheader("Set-Cookie").split(";")[0]
s, _, page = call("GET", "/attackers/" + a["uuid"], headers={"Cookie": session})
m = re.search(rb'id="swarm-hosts">across workers: ([^<]+)<', page)
assert s == 200 and m and set(m.group(1).decode().replace("&#x2192;", "→").split(" → ")) == {"w1", "w2"}, (s, m and m.group(1))
s, _, page = call("GET", "/swarm", headers={"Cookie": session})
assert s == 200 and page.count(b'class="state-active"') == 2 and page.count(b'class="state-running"') == 6, page[:2000]
print(f"   dashboard: attacker {attacker} crossed workers {m.group(1).decode()}; swarm page lists 2 active hosts, 6 running shards")
PY

echo "-- pinning: evict w1 -> its still-valid certificate fails the handshake on the master within 1 s"
W1C=(--cert "$WORK/w1/agent/worker.crt" --key "$WORK/w1/agent/worker.key")
[ "$(ip netns exec "${PFX}w1" curl -sk "${W1C[@]}" -o /dev/null -w '%{http_code}' -X POST -d '{}' "https://$M:8770/swarm/heartbeat")" = 400 ]
mctl evict w1
E0=$(date +%s.%N)
for _ in $(seq 100); do
  ip netns exec "${PFX}w1" curl -sk -m 1 "${W1C[@]}" -o /dev/null "https://$M:8770/health" || break; sleep 0.02
done
E1=$(date +%s.%N)
python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); print(f'   refused {d:.3f} s after the evict'); assert d <= 1.0" "$E0" "$E1"
echo | ip netns exec "${PFX}w1" openssl s_client -connect "$M:8770" "${W1C[@]}" >"$WORK/sclient.out" 2>&1 || true
if ip netns exec "${PFX}w1" curl -sk -m 2 "${W1C[@]}" "https://$M:8770/health"; then echo "evicted certificate accepted"; exit 1; fi
grep -q "swarm: handshake refused: worker $U1 is not pinned" "$WORK/master.err"


echo "-- bad input: each refused with a clear error and an audit event; nothing else in the master's store changes"
# (status is left out: a stopped worker ages to stale on the clock, which is not the bad input's doing)
snapshot() { msql "select uuid, cert_fingerprint, heartbeat_seq, committed_seq, boot_id from swarm_hosts order by uuid;
  select id, used_at from swarm_tokens order by id; select count(*) from decky_shards; select count(*) from logs where service != 'swarm'"; }
W2C=(--cert "$WORK/w2/agent/worker.crt" --key "$WORK/w2/agent/worker.key")
head -c 100000000 /dev/zero | gzip -9 >"$WORK/bomb.gz"    # 100 MB of zeros in ~100 KB: inflation stops at 64 MiB
kill -STOP "$W2PID"   # a quiet worker while the store is compared (its heartbeats and shipping would change it)
sleep 0.5
before=$(snapshot); audits0=$(msql "select count(*) from logs where service = 'swarm'")
T4=$(mctl token create --name w4 --ttl 10m); TID=$(echo "$T4" | cut -d. -f3); SEC=$(echo "$T4" | cut -d. -f4)
before=$(snapshot)
mcurl() { ip netns exec "${PFX}m" curl -sk -m 5 -o "$WORK/bad.out" -w '%{http_code}' "$@"; }
expect() { local want=$1; shift; local got; got=$(mcurl "$@"); [ "$got" = "$want" ] || { echo "expected $want, got $got for $*"; cat "$WORK/bad.out"; exit 1; }; }
J="https://$M:8770/swarm/join"
expect 400 -X POST --data-binary 'not json' "$J"
expect 400 -X POST -d "{\"token_id\":\"$TID\",\"secret\":\"$SEC\",\"name\":\"w4\",\"csr\":\"AAAA\"}" "$J"   # malformed CSR
expect 400 -X POST -d "{\"token_id\":\"$TID\",\"secret\":\"$SEC\",\"name\":\"w4\",\"csr\":\"$(head -c 3000 /dev/urandom | base64 -w0)\"}" "$J"
expect 400 -X POST -d "{\"token_id\":\"zz\",\"secret\":\"$SEC\",\"name\":\"w4\",\"csr\":\"AAAA\"}" "$J"   # token of the wrong shape
head -c 40000 /dev/urandom >"$WORK/big.bin"
expect 400 -X POST --data-binary @"$WORK/big.bin" "$J"                                                           # oversized garbage
grep -q '"detail"' "$WORK/bad.out"
# a regressing heartbeat sequence from a pinned worker
BOOT=$(cat /proc/sys/kernel/random/boot_id)
expect 409 "${W2C[@]}" -X POST -d "{\"seq\":1,\"boot_id\":\"$BOOT\",\"version\":\"x\"}" "https://$M:8770/swarm/heartbeat"
grep -q "does not follow" "$WORK/bad.out"
expect 400 "${W2C[@]}" -X POST -d '{"events":[{"seq":5,"ts":1},{"seq":4,"ts":1}]}' "https://$M:8770/swarm/events"
head -c 5000 /dev/urandom >"$WORK/garbage.gz"
expect 400 "${W2C[@]}" -X POST -H 'Content-Encoding: gzip' --data-binary @"$WORK/garbage.gz" "https://$M:8770/swarm/events"
expect 400 "${W2C[@]}" -X POST -H 'Content-Encoding: gzip' --data-binary @"$WORK/bomb.gz" "https://$M:8770/swarm/events"
if inns "${PFX}w1" "$DECNET" join "https://$M:8770" "decnet1.abc.def.ghi" --name w9 --agent-dir "$WORK/w9" 2>"$WORK/badtoken.err"; then exit 1; fi
grep -q "join token: " "$WORK/badtoken.err"
after=$(snapshot)
[ "$before" = "$after" ] || { echo "bad input changed the master's store"; diff <(echo "$before") <(echo "$after"); exit 1; }
audits1=$(msql "select count(*) from logs where service = 'swarm' and event_type like 'swarm.%.refused'")
[ "$audits1" -ge 9 ] || { echo "only $audits1 refusal audit events"; msql "select event_type, fields from logs where service = 'swarm'"; exit 1; }
kill -CONT "$W2PID"

echo "-- lossless shipping: 2,000 events/s on w2, its link to the master cut for 60 s, then restored"
N=150000
"$DECNET" store bench --db "$WORK/w2/store.db" --events $N --rate 2000 --batch 200 >"$WORK/bench.out" 2>&1 &
BENCH=$!; PIDS+=("$BENCH")
sleep 5
ip -n "${PFX}w2" link set "${PFX}2n" down
sleep 60
[ "$(msql "select status from swarm_hosts where uuid = '$U2'")" = unreachable ] || { echo "w2 not unreachable during the cut"; mctl hosts; exit 1; }
ip -n "${PFX}w2" link set "${PFX}2n" up
ip -n "${PFX}w2" route add default via "$NET.1" 2>/dev/null || true
wait "$BENCH"
converge() {   # waits until the master has committed everything in w2's outbox
  local newest
  newest=$(sqlite3 "$WORK/w2/store.db" "select max(id) from logs")
  for _ in $(seq 600); do [ "$(msql "select committed_seq from swarm_hosts where uuid = '$U2'")" = "$newest" ] && return 0; sleep 0.1; done
  echo "shipping did not converge: worker newest $newest, master $(msql "select committed_seq from swarm_hosts where uuid = '$U2'")"; return 1
}
same_rows() {
  local w m d
  w=$(sqlite3 "$WORK/w2/store.db" "select count(*) from logs")
  m=$(msql "select count(*) from logs where origin_host = '$U2'")
  d=$(msql "select count(*) - count(distinct origin_seq) from logs where origin_host = '$U2'")
  echo "   worker outbox rows $w, master rows $m, duplicates $d"
  [ "$w" = "$m" ] || return 1
  [ "$d" = 0 ]
}
converge; same_rows
[ "$(msql "select status from swarm_hosts where uuid = '$U2'")" = active ]
grep -o "shipping batches gzip-compressed: .*" "$WORK/w2.err" | head -1 | sed 's/^/   /' 

echo "-- the same with kill -9 of the master every 10 s"
"$DECNET" store bench --db "$WORK/w2/store.db" --events 60000 --rate 2000 --batch 200 >"$WORK/bench2.out" 2>&1 &
BENCH=$!; PIDS+=("$BENCH")
for _ in 1 2 3; do sleep 10; kill -9 "$MPID"; wait "$MPID" 2>/dev/null || true; start_master; done
wait "$BENCH"
converge; same_rows

echo "-- RFC 5425 export to a SIEM (mutual TLS): octet-counted frames, every event of the master at least once"
for _ in $(seq 300); do [ "$(wc -l <"$SX/frames.txt")" -ge "$(msql "select count(*) from logs")" ] && break; sleep 0.1; done
[ ! -e "$SX/frames.txt.errors" ] || { echo "framing errors at the SIEM"; cat "$SX/frames.txt.errors"; exit 1; }
msql "select raw_line from logs where raw_line like '<%'" >"$WORK/master-lines.txt"
python3 - "$WORK/master-lines.txt" "$SX/frames.txt" <<'PY'
import collections, sys
want = collections.Counter(open(sys.argv[1], "rb").read().splitlines())
got = collections.Counter(open(sys.argv[2], "rb").read().splitlines())
missing = sum(max(0, n - got[line]) for line, n in want.items())
print(f"   SIEM frames {sum(got.values())}, master RFC 5424 rows {sum(want.values())}, missing {missing}")
assert missing == 0
PY

echo "-- renewal: with the clock past two thirds of the lifetime, w2 rekeys; the old pin is refused after the grace window"
cp "$WORK/w2/agent/worker.crt" "$WORK/w2-old.crt"; cp "$WORK/w2/agent/worker.key" "$WORK/w2-old.key"
OLDFP=$(msql "select cert_fingerprint from swarm_hosts where uuid = '$U2'")
kill "$W2PID"; wait "$W2PID" 2>/dev/null || true
AGENT_ARGS="--renew-clock-offset $((50 * 86400))" start_agent w2   # past 2/3 of 60 days plus the 5 % jitter
for _ in $(seq 100); do [ "$(msql "select cert_fingerprint from swarm_hosts where uuid = '$U2'")" != "$OLDFP" ] && break; sleep 0.1; done
NEWFP=$(msql "select cert_fingerprint from swarm_hosts where uuid = '$U2'")
[ "$NEWFP" != "$OLDFP" ]
[ "$(msql "select previous_fingerprint from swarm_hosts where uuid = '$U2'")" = "$OLDFP" ]
[ "$(openssl x509 -in "$WORK/w2/agent/worker.crt" -outform der | sha256sum | cut -c1-64)" = "$NEWFP" ]
if cmp -s "$WORK/w2/agent/worker.key" "$WORK/w2-old.key"; then echo "renewed over the old key"; exit 1; fi   # a new key
OLDC=(--cert "$WORK/w2-old.crt" --key "$WORK/w2-old.key")
sleep 4   # the grace window is 3 s here
if ip netns exec "${PFX}w2" curl -sk -m 2 "${OLDC[@]}" "https://$M:8770/health"; then echo "the old pin is still accepted after the grace window"; exit 1; fi
[ "$(ip netns exec "${PFX}w2" curl -sk -m 2 "${W2C[@]}" -o /dev/null -w '%{http_code}' "https://$M:8770/health")" = 200 ]

echo "-- ban vs evict: an evicted name may join again with a new token, a banned one may not"
kill "$W1PID"; wait "$W1PID" 2>/dev/null || true
T5=$(mctl token create --name w1 --ttl 10m)
inns "${PFX}w1" "$DECNET" join "https://$M:8770" "$T5" --name w1 --agent-dir "$WORK/w1/agent" >/dev/null
U1=$(msql "select uuid from swarm_hosts where name = 'w1' and status = 'enrolled'")
mkdir -p "$WORK/w2/units"; echo "[Unit]" >"$WORK/w2/units/decnet-agent.service"
T6=$(mctl token create --name w7 --ttl 10m)
inns "${PFX}w1" "$DECNET" join "https://$M:8770" "$T6" --name w7 --agent-dir "$WORK/w7" >/dev/null
mctl ban w7 >/dev/null
T7=$(mctl token create --name w7 --ttl 10m)
if inns "${PFX}w1" "$DECNET" join "https://$M:8770" "$T7" --name w7 --agent-dir "$WORK/w7b" 2>"$WORK/ban.err"; then echo "a banned name joined again"; exit 1; fi
grep -q "join refused (403): the host named w7 is banned" "$WORK/ban.err"

echo "-- a cloned identity (w2's certificate heard from a second boot) raises swarm.identity.cloned; a forged command is refused"
[ "$(ip netns exec "${PFX}w2" curl -sk "${W2C[@]}" -o /dev/null -w '%{http_code}' -X POST -d '{"seq":1,"boot_id":"another-machine"}' "https://$M:8770/swarm/heartbeat")" = 204 ]
for _ in $(seq 50); do [ "$(msql "select count(*) from logs where event_type = 'swarm.identity.cloned'")" -gt 0 ] && break; sleep 0.1; done
[ "$(msql "select count(*) from logs where event_type = 'swarm.identity.cloned' and fields like '%$U2%'")" -gt 0 ]
[ "$(ip netns exec "${PFX}m" curl -sk "${MC[@]}" -o /dev/null -w '%{http_code}' -X POST -d '{"command":"self-destruct","host_uuid":"x"}' "https://$W2:8765/self-destruct")" = 403 ]
for _ in $(seq 100); do [ "$(msql "select count(*) from logs where event_type = 'swarm.command.refused' and origin_host = '$U2'")" -gt 0 ] && break; sleep 0.1; done
[ "$(msql "select count(*) from logs where event_type = 'swarm.command.refused' and origin_host = '$U2'")" -gt 0 ]

echo "-- decommission of an online worker: nothing of it left on it (namespaces, links, key, units, state); logs kept"
kill "$W2PID"; wait "$W2PID" 2>/dev/null || true
AGENT_ARGS="--units-dir $WORK/w2/units" start_agent w2
mctl decommission w2 | tee "$WORK/decom2.out"
grep -q "self-destruct accepted" "$WORK/decom2.out"
for _ in $(seq 100); do kill -0 "$W2PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$W2PID" 2>/dev/null || { echo "w2's agent still running after its self-destruct"; exit 1; }
[ "$(ip netns list | grep -c "^${PFX}2-" || true)" = 0 ]
[ "$(ip -n "${PFX}w2" -o link | grep -vc -e ' lo:' -e "${PFX}2n" || true)" = 0 ]
[ ! -e "$WORK/w2/agent" ]
[ ! -e "$WORK/w2/store.db" ]
[ ! -e "$WORK/w2/units/decnet-agent.service" ]
[ -s "$WORK/w2/logs/decoys.log" ]
[ "$(msql "select count(*) from decky_shards where host_uuid = '$U2'")" = 0 ]
[ "$(msql "select status from swarm_hosts where uuid = '$U2'")" = decommissioned ]

echo "-- decommission of an offline worker: refused when it comes back, then self-destructs on the signed command"
mctl decommission w1 | tee "$WORK/decom1.out"
grep -q "self-destruct pending" "$WORK/decom1.out"
sleep 1   # a CLI's decision reaches the listener's pin table within 250 ms
start_agent w1
W1C=(--cert "$WORK/w1/agent/worker.crt" --key "$WORK/w1/agent/worker.key")
if ip netns exec "${PFX}w1" curl -sk -m 2 "${W1C[@]}" "https://$M:8770/health"; then echo "a decommissioned worker was let back in"; exit 1; fi
for _ in $(seq 200); do kill -0 "$W1PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$W1PID" 2>/dev/null || { echo "w1 did not self-destruct after coming back"; exit 1; }
[ ! -e "$WORK/w1/agent" ]
[ "$(ip netns list | grep -c "^${PFX}1-" || true)" = 0 ]
msql "select count(*) from logs where event_type = 'swarm.host.self_destruct_sent'" | grep -qx 2

echo "swarm: ok in ${SECONDS}s"
