#!/usr/bin/env python3
"""Seed one deterministic dataset (attackers, events, credentials, bounty) into decnet's store and, optionally,
into the original DECNET's SQLite database, so both APIs serve the same rows.

  seed.py --ours DB [--original DB] [--attackers 10000] [--events 1000000] [--seed 42]

Our DB must already be migrated (`decnet store check --db DB`); the original's must have been created by one
start of its `decnet api` (Alembic baseline). Rows are inserted in one transaction per table.
"""
import argparse, datetime, hashlib, json, random, sqlite3, sys, time, uuid

SERVICES = ["ssh", "telnet", "http", "https", "ftp", "smtp", "redis", "mysql", "mqtt"]
EVENTS = {"ssh": ["login_attempt", "command"], "telnet": ["login_attempt", "command"], "http": ["request", "login_attempt"],
          "https": ["request", "tls_client_hello"], "ftp": ["login_attempt", "file_captured"], "smtp": ["auth_attempt", "relay_attempt"],
          "redis": ["command"], "mysql": ["login_attempt"], "mqtt": ["connect", "subscribe"]}
USERS = ["root", "admin", "ubuntu", "pi", "oracle", "test", "user", "postgres", "git", "support"]
PASSWORDS = ["123456", "password", "admin", "root", "toor", "raspberry", "qwerty", "letmein", "changeme", "P@ssw0rd"]


def dataset(n_attackers, n_events, seed):
    rnd = random.Random(seed)
    now = 1_795_400_000.0  # fixed epoch (2026-11-22): both databases get byte-identical rows
    deckies = [f"decky-{i:02d}" for i in range(1, 21)]
    attackers = []
    for i in range(n_attackers):
        ip = f"{rnd.choice([45, 61, 89, 103, 185, 193, 212])}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        svcs = sorted(rnd.sample(SERVICES, rnd.randint(1, 4)))
        dks = sorted(rnd.sample(deckies, rnd.randint(1, 3)))
        first = now - rnd.uniform(3600, 7 * 86400)
        attackers.append({"uuid": str(uuid.UUID(int=rnd.getrandbits(128), version=4)), "ip": ip, "services": svcs,
                          "deckies": dks, "first": first, "last": first, "events": 0, "creds": 0})
    events = []
    t = now - 7 * 86400
    step = 7 * 86400 / max(1, n_events)
    for i in range(n_events):
        a = attackers[int(rnd.paretovariate(1.2)) % n_attackers] if rnd.random() < 0.6 else attackers[rnd.randrange(n_attackers)]
        svc = rnd.choice(a["services"])
        et = rnd.choice(EVENTS[svc])
        decky = rnd.choice(a["deckies"])
        t += step
        a["events"] += 1
        a["last"] = max(a["last"], t)
        a["first"] = min(a["first"], t)
        fields = {"src_port": rnd.randint(1024, 65535)}
        if et == "login_attempt":
            fields["username"] = rnd.choice(USERS)
            fields["password"] = rnd.choice(PASSWORDS)
        elif et == "command":
            fields["command"] = rnd.choice(["uname -a", "cat /proc/cpuinfo", "wget http://x/y.sh", "id", "ls -la"])
        raw = (f"<134>1 {datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()} {decky} {svc} - {et} "
               f"[decnet@55555 src_ip=\"{a['ip']}\"] {et} from {a['ip']}")
        events.append((t, decky, svc, et, a["ip"], raw, json.dumps(fields, separators=(",", ":"))))
    creds = []
    for a in attackers:
        for _ in range(rnd.randint(0, 3)):
            svc = rnd.choice(a["services"])
            user, pw = rnd.choice(USERS), rnd.choice(PASSWORDS)
            creds.append((a, rnd.choice(a["deckies"]), svc, user, pw))
            a["creds"] += 1
    seen = set()
    creds = [c for c in creds if (k := (c[0]["ip"], c[1], c[2], c[3], c[4])) not in seen and not seen.add(k)]
    for a in attackers:
        a["creds"] = 0
    for c in creds:
        c[0]["creds"] += 1
    return attackers, events, creds


def iso_sqlalchemy(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def seed_ours(path, attackers, events, creds):
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany("INSERT INTO attackers (uuid, ip, first_seen, last_seen, event_count, service_count, decky_count, "
                       "credential_count, bounty_count, is_traversal, score, profile, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       [(a["uuid"], a["ip"], a["first"], a["last"], a["events"], len(a["services"]), len(a["deckies"]), a["creds"],
                         a["creds"], int(len(a["deckies"]) > 1), round(a["events"] ** 0.5, 2),
                         json.dumps({"services": a["services"], "deckies": a["deckies"]}), a["last"]) for a in attackers])
        db.executemany("INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, severity, raw_line, fields) "
                       "VALUES (?,?,?,?,?,6,?,?)", events)
        db.executemany("INSERT INTO credentials (attacker_ip, attacker_uuid, decky_name, service, principal, principal_key, "
                       "secret_kind, secret_sha256, secret_printable, outcome, fields, first_seen, last_seen, attempt_count) "
                       "VALUES (?,?,?,?,?,?,'plaintext',?,?,'failed','{}',?,?,1)",
                       [(a["ip"], a["uuid"], d, s, u, u, hashlib.sha256(p.encode()).hexdigest(), p, a["first"], a["last"])
                        for a, d, s, u, p in creds])
        db.executemany("INSERT INTO bounty (timestamp, decky, service, attacker_ip, bounty_type, payload) VALUES (?,?,?,?,'credential',?)",
                       [(a["last"], d, s, a["ip"], json.dumps({"username": u, "password": p})) for a, d, s, u, p in creds])
    db.close()


def seed_original(path, attackers, events, creds):
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany("INSERT INTO attackers (uuid, ip, first_seen, last_seen, event_count, service_count, decky_count, services, "
                       "deckies, is_traversal, bounty_count, credential_count, fingerprints, commands, rotation_count, "
                       "ipv6_leak_count, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'[]','[]',0,0,?)",
                       [(a["uuid"], a["ip"], iso_sqlalchemy(a["first"]), iso_sqlalchemy(a["last"]), a["events"], len(a["services"]),
                         len(a["deckies"]), json.dumps(a["services"]), json.dumps(a["deckies"]), int(len(a["deckies"]) > 1),
                         a["creds"], a["creds"], iso_sqlalchemy(a["last"])) for a in attackers])
        db.executemany("INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, raw_line, fields) VALUES (?,?,?,?,?,?,?)",
                       [(iso_sqlalchemy(e[0]),) + e[1:] for e in events])
        db.executemany("INSERT INTO credentials (attacker_ip, attacker_uuid, decky_name, service, principal, principal_key, "
                       "secret_kind, secret_sha256, secret_printable, outcome, fields, first_seen, last_seen, attempt_count) "
                       "VALUES (?,?,?,?,?,?,'plaintext',?,?,'failed','{}',?,?,1)",
                       [(a["ip"], a["uuid"], d, s, u, u, hashlib.sha256(p.encode()).hexdigest(), p, iso_sqlalchemy(a["first"]),
                         iso_sqlalchemy(a["last"])) for a, d, s, u, p in creds])
        db.executemany("INSERT INTO bounty (timestamp, decky, service, attacker_ip, bounty_type, payload) VALUES (?,?,?,?,'credential',?)",
                       [(iso_sqlalchemy(a["last"]), d, s, a["ip"], json.dumps({"username": u, "password": p})) for a, d, s, u, p in creds])
    db.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--original")
    ap.add_argument("--attackers", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    o = ap.parse_args()
    t0 = time.time()
    attackers, events, creds = dataset(o.attackers, o.events, o.seed)
    seed_ours(o.ours, attackers, events, creds)
    if o.original:
        seed_original(o.original, attackers, events, creds)
    print(f"seeded {len(attackers)} attackers, {len(events)} events, {len(creds)} credentials in {time.time() - t0:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
