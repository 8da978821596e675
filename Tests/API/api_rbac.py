#!/usr/bin/env python3
"""RBAC table and bad-input test against a running `decnet api` (real HTTP over loopback).

Every operation in /openapi.json must have a row here (a new route without one fails the test), and every row
is called as {anonymous, viewer, admin} and must answer exactly the expected status. Then hostile input: bad
JSON, wrong types, unknown fields, oversized bodies, bad pagination, tampered/expired/none-alg tokens, revoked
tokens: all 4xx with a JSON `detail`, never a 5xx.

  api_rbac.py --url http://127.0.0.1:PORT --secret JWT_SECRET --admin-password PW --out DIR
Writes DIR/admin.token and DIR/viewer.token (fresh, for schemathesis).
"""
import argparse, base64, hashlib, hmac, http.client, json, sys, time, urllib.parse

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL:", msg)


class API:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port

    def call(self, method, path, token=None, body=None, raw=None, ctype="application/json", headers=None, read=True):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h["Content-Type"] = ctype
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        if not read:  # streams: status and first bytes only
            first = r.read1(64) if r.status == 200 else r.read()
            c.close()
            return r.status, first, r
        payload = r.read()
        c.close()
        try:
            j = json.loads(payload) if payload else None
        except ValueError:
            j = None
        return r.status, j, r


def login(api, user, pw):
    s, j, _ = api.call("POST", "/api/v1/auth/login", body={"username": user, "password": pw})
    assert s == 200, f"login {user}: {s} {j}"
    return j["access_token"], j["must_change_password"]


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def forge(secret, claims, alg="HS256"):
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    if alg == "none":
        return f"{header}.{payload}."
    sig = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(sig)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--out", required=True)
    o = ap.parse_args()
    api = API(o.url)
    V1 = "/api/v1"

    # Bootstrap: the first admin must change the password before any role-gated route.
    tok, must = login(api, "admin", o.admin_password)
    check(must is True, "first admin must change the password")
    s, j, _ = api.call("GET", V1 + "/stats", tok)
    check(s == 403 and "Password change required" in (j or {}).get("detail", ""), f"must-change admin on /stats -> 403, got {s} {j}")
    admin_pw = "admin-" + o.admin_password
    s, j, _ = api.call("POST", V1 + "/auth/change-password", tok, {"old_password": o.admin_password, "new_password": admin_pw})
    check(s == 200, f"admin change-password -> 200, got {s} {j}")
    s, _, _ = api.call("GET", V1 + "/stats", tok)
    check(s == 401, f"token issued before a password change is revoked -> 401, got {s}")
    admin, _ = login(api, "admin", admin_pw)
    s, j, _ = api.call("POST", V1 + "/config/users", admin, {"username": "viewer1", "password": "viewer-initial-pw", "role": "viewer"})
    check(s == 200 and j["must_change_password"] is True, f"create viewer -> 200, got {s} {j}")
    vt, must = login(api, "viewer1", "viewer-initial-pw")
    check(must is True, "new users must change the password")
    api.call("POST", V1 + "/auth/change-password", vt, {"old_password": "viewer-initial-pw", "new_password": "viewer-final-pw1"})
    viewer, _ = login(api, "viewer1", "viewer-final-pw1")
    s, j, _ = api.call("GET", V1 + "/config", viewer)
    viewer_uuid = None
    s, j, _ = api.call("GET", V1 + "/config", admin)
    me_admin = next(u for u in j["users"] if u["username"] == "admin")["uuid"]
    viewer_uuid = next(u for u in j["users"] if u["username"] == "viewer1")["uuid"]
    s, j, _ = api.call("GET", V1 + "/attackers?limit=1", admin)
    attacker = j["data"][0]["uuid"] if j and j["data"] else "none"

    # Scratch users the admin rows act on (so the table never touches the accounts it runs as).
    def scratch(name):
        s, j, _ = api.call("POST", V1 + "/config/users", admin, {"username": name, "password": "scratch-password", "role": "viewer"})
        assert s == 200, (s, j)
        return j["uuid"]

    # (method, path-template, concrete path, body, expected {anon, viewer, admin}, stream?)
    # The admin column uses per-call fresh targets where the call changes state.
    A, VW, AD = "anon", "viewer", "admin"
    rows = [
        ("POST", "/auth/login", "/auth/login", {"username": "nobody", "password": "wrong-password"}, {A: 401, VW: 401, AD: 401}),
        ("POST", "/auth/change-password", "/auth/change-password", {"old_password": "x", "new_password": "short"}, {A: 401, VW: 422, AD: 422}),
        ("POST", "/auth/logout", None, None, {A: 401, VW: 200, AD: 200}),
        ("POST", "/auth/sse-ticket", "/auth/sse-ticket", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/logs", "/logs?limit=5", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/logs/histogram", "/logs/histogram", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/bounty", "/bounty", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/credentials", "/credentials", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/stats", "/stats", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/stream", "/stream", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/attackers", "/attackers", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/attackers/{uuid}", f"/attackers/{attacker}", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/health", "/health", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/workers", "/workers", None, {A: 401, VW: 200, AD: 200}),
        ("POST", "/workers/{name}/stop", "/workers/reconciler/stop", None, {A: 401, VW: 403, AD: 202}),
        ("GET", "/system/deployment-mode", "/system/deployment-mode", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/deckies", "/deckies", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/deckies/lifecycle", "/deckies/lifecycle?ids=decky-01", None, {A: 401, VW: 200, AD: 200}),
        ("POST", "/deckies/deploy", "/deckies/deploy", {"ini_content": "[decky-x]\nservices = nosuchservice\n"}, {A: 401, VW: 403, AD: 409}),
        ("DELETE", "/deckies/{decky_name}", "/deckies/no-such-decky", None, {A: 401, VW: 403, AD: 404}),
        ("POST", "/deckies/{decky_name}/mutate", "/deckies/no-such-decky/mutate", None, {A: 401, VW: 403, AD: 404}),
        ("GET", "/config", "/config", None, {A: 401, VW: 200, AD: 200}),
        ("PUT", "/config/deployment-limit", "/config/deployment-limit", {"deployment_limit": 20}, {A: 401, VW: 403, AD: 200}),
        ("PUT", "/config/global-mutation-interval", "/config/global-mutation-interval", {"global_mutation_interval": "45m"}, {A: 401, VW: 403, AD: 200}),
        ("POST", "/config/users", None, None, {A: 401, VW: 403, AD: 200}),
        ("DELETE", "/config/users/{user_uuid}", None, None, {A: 401, VW: 403, AD: 200}),
        ("PUT", "/config/users/{user_uuid}/role", None, {"role": "admin"}, {A: 401, VW: 403, AD: 200}),
        ("PUT", "/config/users/{user_uuid}/reset-password", None, {"new_password": "reset-password-1"}, {A: 401, VW: 403, AD: 200}),
        ("GET", "/swarm/hosts", "/swarm/hosts", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/swarm/hosts/{host_uuid}", "/swarm/hosts/no-such-host", None, {A: 401, VW: 404, AD: 404}),
        ("GET", "/swarm/deckies", "/swarm/deckies", None, {A: 401, VW: 200, AD: 200}),
        ("GET", "/swarm/tokens", "/swarm/tokens", None, {A: 401, VW: 403, AD: 200}),
        ("POST", "/swarm/tokens", "/swarm/tokens", {"name": "rbac-worker", "ttl_seconds": 600}, {A: 401, VW: 403, AD: 201}),
        ("POST", "/swarm/hosts/{host_uuid}/evict", "/swarm/hosts/no-such-host/evict", None, {A: 401, VW: 403, AD: 404}),
        ("POST", "/swarm/hosts/{host_uuid}/ban", "/swarm/hosts/no-such-host/ban", None, {A: 401, VW: 403, AD: 404}),
        ("DELETE", "/swarm/hosts/{host_uuid}", "/swarm/hosts/no-such-host", None, {A: 401, VW: 403, AD: 404}),
        ("POST", "/swarm/hosts/{host_uuid}/teardown", "/swarm/hosts/no-such-host/teardown", None, {A: 401, VW: 403, AD: 404}),
        ("POST", "/swarm/deckies/{decky_name}/mutate", "/swarm/deckies/no-such-decky/mutate", None, {A: 401, VW: 403, AD: 404}),
        ("POST", "/swarm/check", "/swarm/check", None, {A: 401, VW: 403, AD: 200}),
        ("POST", "/swarm/deploy", "/swarm/deploy", {"ini_content": "[d1]\nservices = ssh\n"}, {A: 401, VW: 403, AD: 409}),
    ]

    # Every documented operation has a row.
    s, doc, _ = api.call("GET", "/openapi.json")
    check(s == 200 and doc["openapi"].startswith("3.1"), f"/openapi.json is OpenAPI 3.1, got {s}")
    documented = {(m.upper(), p[len(V1):]) for p, ops in doc["paths"].items() for m in ops}
    tabled = {(r[0], r[1]) for r in rows}
    check(documented == tabled, f"RBAC table and OpenAPI differ: untested {sorted(documented - tabled)}, undocumented {sorted(tabled - documented)}")
    for p, ops in doc["paths"].items():
        for m, op in ops.items():
            want = {"anonymous": "anonymous", "authenticated": "authenticated", "viewer": "viewer", "admin": "admin", "stream": "stream"}
            check(op.get("x-decnet-access") in want, f"{m} {p}: access class documented")

    n = 0
    for method, template, path, body, expect in rows:
        for role, token in ((A, None), (VW, viewer), (AD, admin)):
            concrete = path
            if template == "/auth/logout":
                token = None if role == A else login(api, "admin" if role == AD else "viewer1", admin_pw if role == AD else "viewer-final-pw1")[0]
                concrete = "/auth/logout"
            elif template == "/config/users":
                concrete, body = "/config/users", {"username": f"rbac-{role}-{n}", "password": "rbac-user-password", "role": "viewer"}
            elif "{user_uuid}" in template:
                target = scratch(f"target-{role}-{n}")
                concrete = template.replace("{user_uuid}", target)
            stream = template == "/stream"
            s, j, _ = api.call(method, V1 + concrete, token, body, read=not stream)
            n += 1
            check(s == expect[role], f"{role:6} {method} {template}: expected {expect[role]}, got {s} {j if not stream else ''}")
            if s >= 400 and not stream:
                check(isinstance(j, dict) and isinstance(j.get("detail"), str), f"{method} {template} as {role}: error body has detail")
            if template == "/auth/logout" and token and s == 200:
                s2, _, _ = api.call("GET", V1 + "/stats", token)
                check(s2 == 401, f"token after logout -> 401, got {s2}")
    print(f"rbac: {n} calls ({len(rows)} routes x anonymous/viewer/admin)")

    # Self-protection rows.
    s, _, _ = api.call("DELETE", f"{V1}/config/users/{me_admin}", admin)
    check(s == 403, f"admin deleting self -> 403, got {s}")
    s, _, _ = api.call("PUT", f"{V1}/config/users/{me_admin}/role", admin, {"role": "viewer"})
    check(s == 403, f"admin demoting self -> 403, got {s}")
    # Role change revokes the target's sessions.
    t_uuid = scratch("role-victim")
    api.call("PUT", f"{V1}/config/users/{t_uuid}/reset-password", admin, {"new_password": "role-victim-pass"})

    # Bad input: never a 5xx, always a JSON detail.
    bad = [
        ("malformed JSON", "POST", "/config/users", admin, dict(raw=b'{"username": "x",', ctype="application/json"), 400),
        ("JSON array body", "POST", "/config/users", admin, dict(raw=b'[1,2]', ctype="application/json"), 400),
        ("wrong type", "POST", "/config/users", admin, dict(body={"username": 5, "password": "long-enough-pw", "role": "viewer"}), 400),
        ("unknown field", "PUT", "/config/deployment-limit", admin, dict(body={"deployment_limit": 5, "extra": 1}), 400),
        ("missing field", "PUT", "/config/deployment-limit", admin, dict(body={}), 400),
        ("out of range", "PUT", "/config/deployment-limit", admin, dict(body={"deployment_limit": 501}), 422),
        ("bad enum", "PUT", f"/config/users/{viewer_uuid}/role", admin, dict(body={"role": "root"}), 422),
        ("bad pattern", "PUT", "/config/global-mutation-interval", admin, dict(body={"global_mutation_interval": "0m"}), 422),
        ("password > 72 bytes", "POST", "/auth/login", None, dict(body={"username": "admin", "password": "a" * 73}), 422),
        ("non-ASCII password", "POST", "/auth/login", None, dict(body={"username": "admin", "password": "é" * 40}), 422),
        ("not JSON content type", "POST", "/auth/login", None, dict(raw=b"username=a&password=b", ctype="application/x-www-form-urlencoded"), 415),
        ("empty body", "POST", "/auth/login", None, dict(raw=b"", ctype="application/json"), 400),
        ("oversized body", "POST", "/auth/login", None, dict(raw=b'{"username":"' + b"a" * 200_000 + b'"}', ctype="application/json"), 413),
        ("deeply nested JSON", "POST", "/auth/login", None, dict(raw=b"[" * 5000 + b"]" * 5000, ctype="application/json"), 400),
        ("limit=0", "GET", "/logs?limit=0", viewer, {}, 422),
        ("limit=abc", "GET", "/logs?limit=abc", viewer, {}, 422),
        ("limit too big", "GET", "/logs?limit=100000", viewer, {}, 422),
        ("negative offset", "GET", "/attackers?offset=-1", viewer, {}, 422),
        ("repeated param", "GET", "/logs?limit=1&limit=2", viewer, {}, 422),
        ("bad time", "GET", "/logs?start_time=yesterday", viewer, {}, 422),
        ("bad sort", "GET", "/attackers?sort_by=worst", viewer, {}, 422),
        ("search too long", "GET", "/logs?search=" + "a" * 600, viewer, {}, 422),
        ("unknown attacker", "GET", "/attackers/not-a-uuid", viewer, {}, 404),
        ("unknown route", "GET", "/no/such/route", viewer, {}, 404),
        ("wrong method", "DELETE", "/stats", viewer, {}, 405),
        ("viewer on admin route", "POST", "/config/users", viewer, dict(body={"username": "zz", "password": "zzzzzzzzzzzzzz"}), 403),
    ]
    for name, method, path, token, kw, want in bad:
        s, j, _ = api.call(method, V1 + path, token, **kw)
        check(s == want, f"bad input '{name}': expected {want}, got {s} {j}")
        check(isinstance(j, dict) and "detail" in j, f"bad input '{name}': JSON detail")

    now = int(time.time())
    claims = {"uuid": me_admin, "jti": "f" * 32, "iat": now, "exp": now + 600, "iss": "decnet", "aud": "decnet-dashboard", "typ": "access"}
    tokens = {
        "tampered signature": admin[:-2] + ("AA" if not admin.endswith("AA") else "BB"),
        "tampered payload": admin.split(".")[0] + "." + b64(json.dumps(dict(claims, uuid=viewer_uuid)).encode()) + "." + admin.split(".")[2],
        "expired": forge(o.secret, dict(claims, iat=now - 7200, exp=now - 3600)),
        "alg none": forge(o.secret, claims, alg="none"),
        "wrong audience": forge(o.secret, dict(claims, aud="someone-else")),
        "wrong issuer": forge(o.secret, dict(claims, iss="evil")),
        "refresh type": forge(o.secret, dict(claims, typ="refresh")),
        "no jti": forge(o.secret, {k: v for k, v in claims.items() if k != "jti"}),
        "wrong key": forge("x" * 40, claims),
        "unknown user": forge(o.secret, dict(claims, uuid="00000000-0000-4000-8000-000000000000")),
        "garbage": "not.a.token",
    }
    for name, t in tokens.items():
        s, j, _ = api.call("GET", V1 + "/stats", t)
        check(s == 401, f"token '{name}' -> 401, got {s} {j}")
    s, _, _ = api.call("GET", V1 + "/stats", forge(o.secret, claims))
    check(s in (200, 401), f"a correctly forged token with the real secret is accepted or refused by tokens_valid_from, got {s}")

    # Dashboard pages: anonymous is sent to /login.
    for page in ["/", "/attackers", "/deckies", "/workers", f"/attackers/{attacker}"]:
        s, _, r = api.call("GET", page)
        check(s == 303 and r.getheader("Location") == "/login", f"anonymous {page} -> 303 /login, got {s}")

    for role, t in (("admin", admin), ("viewer", viewer)):
        with open(f"{o.out}/{role}.token", "w") as f:
            f.write(t)
    if FAILS:
        print(f"api_rbac: {len(FAILS)} failures")
        sys.exit(1)
    print("api_rbac: ok")


if __name__ == "__main__":
    main()
