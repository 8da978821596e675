#!/usr/bin/env bash
# attackers_scenario.sh: correlation and the mutator end to end, with real parts only. Three deckies on a test
# bridge (`decnet serve`), the sensor capturing the bridge, the bus broker, the mutator loop, the API. An
# attacker namespace runs nmap against the three deckies one after another, brute-forces telnet on the second
# and logs into http on the third; a scanner namespace only runs nmap. Then:
#   - the profiler gives the attacker the three deckies in order, its credentials, its SYN fingerprints
#     (ja4t / p0f), is_traversal, and a higher score than the scanner's;
#   - d1 rotates on schedule (trigger scheduled), nmap sees its new services, the RFC 5424 line, the store row
#     and the bus event carry old/new/trigger; a decky.d2.mutate_request mutates d2 within 1 s;
#   - the attacker's API detail shows the mutation of d1 inside its timeline, between its hops.
# Only addresses inside our own bridge and namespaces are contacted.
source "$(dirname "$0")/lib.sh"
make_bridge
export DECNET_DB_PATH=$WORK/store.db DECNET_BUS_SOCKET=$WORK/bus.sock
DK="--netns-prefix ${PFX}-"
D1=$NET.10 D2=$NET.11 D3=$NET.12 ATK=$NET.66 SCN=$NET.67
cat >"$WORK/fleet.ini" <<EOF
[general]
net = $NET.0/24
interface = $BR

[d1]
ip = $D1
services = http,telnet
mutate_interval = 1

[d2]
ip = $D2
services = telnet

[d3]
ip = $D3
services = http
EOF
"$DECNET" bus --socket "$WORK/bus.sock" --group "" 2>"$WORK/bus.err" &
PIDS+=($!)
"$DECNET" deploy $DK --config "$WORK/fleet.ini" >"$WORK/deploy.out"
start_serve 3 --poll 0.2
start_sensor "$BR" --decky "d1=$D1" --decky "d2=$D2" --decky "d3=$D3" --immediate
python3 "$(dirname "$0")/bus_tool.py" "$WORK/bus.sock" sub "decky.*.mutation" "$WORK/mutations.jsonl" &
PIDS+=($!)

host() { # name ip: a namespace on the bridge
  ip netns add "${PFX}$1"
  ip link add "${PFX}$1a" type veth peer name "${PFX}$1b"
  ip link set "${PFX}$1b" netns "${PFX}$1"
  ip link set "${PFX}$1a" master "$BR" up
  ip netns exec "${PFX}$1" ip addr add "$2/24" dev "${PFX}$1b"
  ip netns exec "${PFX}$1" ip link set "${PFX}$1b" up
  ip netns exec "${PFX}$1" ip link set lo up
}
host atk "$ATK"
host scn "$SCN"
scan() { ip netns exec "${PFX}$1" nmap -sS -Pn -n --max-retries 1 -p 1-30,80,443 "$2" >>"$WORK/nmap-$1.txt" 2>&1; }

echo "-- attacker: nmap d1"
scan atk "$D1"
sleep 1

echo "-- d1 rotates on schedule (mutate_interval 1 min; last mutation 58 s ago)"
ino_before=$(stat -c %i "/run/netns/${PFX}-d1")
python3 - "$WORK/store.db" <<'EOF'
import json, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
with db:
    db.execute("INSERT INTO state (key, value) VALUES ('mutator.last_mutated', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
               (json.dumps({"d1": time.time() - 58}),))
EOF
"$DECNET" mutate $DK --watch --poll 1 --log-file "$WORK/mutator.log" 2>"$WORK/mutator.err" &
PIDS+=($!)
wait_for "$WORK/mutator.log" 'decky="d1"' 150
grep -q 'trigger="scheduled"' "$WORK/mutator.log" || { cat "$WORK/mutator.log"; exit 1; }
sleep 1

echo "-- attacker: nmap d2, d3; telnet brute force on d2; http login on d3"
scan atk "$D2"
sleep 1
scan atk "$D3"
sleep 1
(sleep 1; echo root; sleep 0.4; echo 123456; sleep 3.5; echo admin; sleep 0.4; echo admin; sleep 3.5; echo pi; sleep 0.4; echo raspberry; sleep 3.5) |
  timeout 20 ip netns exec "${PFX}atk" telnet "$D2" >"$WORK/telnet.out" 2>&1 || true
grep -q "Login incorrect" "$WORK/telnet.out" || { cat "$WORK/telnet.out"; exit 1; }
ip netns exec "${PFX}atk" curl -s -d 'username=admin&password=Summer2026!' "http://$D3/login" >"$WORK/login.html"

echo "-- a bus mutate_request mutates d2 within 1 s"
took=$(python3 "$(dirname "$0")/bus_tool.py" "$WORK/bus.sock" pub-wait decky.d2.mutate_request '{}' "$WORK/mutator.log" 'decky="d2"' 1.0) ||
  { echo "mutate_request: $took s (limit 1 s)"; cat "$WORK/mutator.err"; exit 1; }
echo "mutate_request -> decky_mutated in $took s"
grep 'decky="d2"' "$WORK/mutator.log" | grep -q 'trigger="operator"'

echo "-- nmap sees d1's new services"
new=$(python3 - "$WORK/store.db" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = [f for f in (json.loads(r[0]) for r in db.execute("SELECT fields FROM logs WHERE event_type = 'decky_mutated' AND decky = 'd1' ORDER BY id"))
        if f["trigger"] != "creation"]
f = rows[0]
assert f["trigger"] == "scheduled" and f["old_services"] == ["http", "telnet"] and f["new_services"] != f["old_services"], f
print(",".join(rows[-1]["new_services"]))      # the latest set (d1 rotates every minute)
EOF
)
echo "d1: http,telnet -> $new"
declare -A PORTS=([ssh]=22 [telnet]=23 [http]=80 [https]=443 [ftp]=21 [smtp]="25 587" [redis]=6379 [mysql]=3306 [mqtt]=1883)
want=$(for s in ${new//,/ }; do [ -n "${PORTS[$s]:-}" ] || { echo "no port known for service $s" >&2; exit 1; }; echo ${PORTS[$s]}; done | tr ' ' '\n' | sort -n | tr '\n' ' ')
for _ in $(seq 30); do
  nmap -sT -Pn -n -p 21,22,23,25,80,443,587,1883,3306,6379 "$D1" >"$WORK/nmap-d1-after.txt" 2>&1
  got=$(awk -F/ '/\/tcp +open/ {print $1}' "$WORK/nmap-d1-after.txt" | sort -n | tr '\n' ' ')
  [ "$got" = "$want" ] && break
  sleep 0.5
done
[ "$got" = "$want" ] || { echo "nmap on d1: open [$got], expected [$want]"; cat "$WORK/nmap-d1-after.txt"; exit 1; }
echo "nmap on d1 after the rotation: open $got"
[ "$(stat -c %i "/run/netns/${PFX}-d1")" = "$ino_before" ] || { echo "d1's namespace was recreated"; exit 1; }
grep -q 'decky_mutated \[relay@55555 decky="d1" old_services="" new_services="http,telnet" trigger="creation"' "$WORK/decnet.log" ||
  { echo "no creation line for d1"; cat "$WORK/decnet.log"; exit 1; }
python3 - "$WORK/mutations.jsonl" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
d1 = [e for e in ev if e["topic"] == "decky.d1.mutation"]
assert d1, ev
p = d1[0]["event"]["payload"]
assert p["decky"] == "d1" and p["trigger"] == "scheduled" and p["old_services"] == ["http", "telnet"] and p["new_services"], p
assert any(e["topic"] == "decky.d2.mutation" and e["event"]["payload"]["trigger"] == "operator" for e in ev), ev
print(f"bus: {len(ev)} decky.*.mutation events with old/new/trigger")
EOF

echo "-- scanner: nmap d1, d2, d3"
for d in "$D1" "$D2" "$D3"; do scan scn "$d"; done
sleep 2
stop_sensor

echo "-- profiler"
"$DECNET" profiler --once --db "$WORK/store.db" | tee "$WORK/profiler.out"
python3 - "$WORK/store.db" "$ATK" "$SCN" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
atk, scn = sys.argv[2], sys.argv[3]
def row(ip):
    r = db.execute("SELECT uuid, event_count, decky_count, credential_count, is_traversal, score, profile FROM attackers WHERE ip = ?", (ip,)).fetchone()
    assert r, f"no profile for {ip}"
    return dict(zip(["uuid", "events", "deckies", "creds", "traversal", "score", "profile"], r[:6] + (json.loads(r[6]),)))
a, s = row(atk), row(scn)
print(f"attacker {atk}: deckies {a['profile']['deckies']} phases {a['profile']['phases']} creds {a['creds']} score {a['score']}")
print(f"scanner  {scn}: deckies {s['profile']['deckies']} phases {s['profile']['phases']} score {s['score']}")
assert a["profile"]["deckies"] == ["d1", "d2", "d3"], a["profile"]["deckies"]
assert a["traversal"] == 1 and a["creds"] >= 3, a
prints = a["profile"]["fingerprints"]
assert "ja4t" in prints and prints["ja4t"], prints
assert "p0f_os" in prints or "p0f_signature" in prints, prints
assert "auth" in a["profile"]["phases"] and "scan" in a["profile"]["phases"], a["profile"]["phases"]
assert a["score"] > s["score"], (a["score"], s["score"])
assert s["traversal"] == 1 and "auth" not in s["profile"]["phases"], s
rel = {r["ip"]: r["shared"] for r in a["profile"]["related"]}
assert scn in rel and any(x.startswith("ja4t:") for x in rel[scn]), a["profile"]["related"]   # same nmap SYNs
print(f"related: {atk} ~ {scn} by {rel[scn]}")
fp = db.execute("SELECT count(*) FROM attacker_fingerprints WHERE attacker_uuid = ? AND kind = 'ja4t'", (a["uuid"],)).fetchone()[0]
assert fp >= 1
linked = db.execute("SELECT count(*) FROM credentials WHERE attacker_ip = ? AND attacker_uuid = ?", (atk, a["uuid"])).fetchone()[0]
assert linked >= 3, linked
print("profiles: ok")
open(sys.argv[1] + ".atk-uuid", "w").write(a["uuid"])
EOF
# Replaying: a second pass folds nothing and changes nothing.
before=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT group_concat(profile) FROM attackers ORDER BY ip').fetchone()[0])" "$WORK/store.db" | sha256sum)
"$DECNET" profiler --once --db "$WORK/store.db" | grep -q "folded 0 events"
after=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT group_concat(profile) FROM attackers ORDER BY ip').fetchone()[0])" "$WORK/store.db" | sha256sum)
[ "$before" = "$after" ]

echo "-- the API's attacker detail: the d1 mutation inside the attacker's timeline"
start_api_admin "$WORK/store.db"
curl -s "$API/attackers/$(cat "$WORK/store.db.atk-uuid")" -H "authorization: Bearer $T" >"$WORK/detail.json"
python3 - "$WORK/detail.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
kinds = [t["kind"] for t in d["timeline"]]
assert "mutation" in kinds, kinds
i = kinds.index("mutation")
assert "hop" in kinds[:i] and "hop" in kinds[i + 1:], kinds
m = d["timeline"][i]
assert m["decky"] == "d1" and m["trigger"] == "scheduled" and m["old_services"] == ["http", "telnet"], m
print(f"timeline: {kinds.count('hop')} hops, mutation of d1 at position {i}")
EOF
curl -s "$API/attackers?sort_by=score&limit=1" -H "authorization: Bearer $T" | python3 -c "import sys,json; d=json.load(sys.stdin)['data'][0]; assert d['ip']=='$ATK', d; print('top by score:', d['ip'], d['score'])"
"$DECNET" teardown $DK --id d3 >/dev/null
grep -q 'decky="d3" old_services="http" new_services="" trigger="retirement"' "$WORK/decnet.log" || { echo "no retirement line for d3"; exit 1; }
echo "attackers_scenario: ok"
