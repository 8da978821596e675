#!/usr/bin/env python3
"""Issue 16's API findings against a running `decnet api` (real HTTP over loopback). Each check failed before its
fix: a crash of the whole API (lastEventId=2^63-1, dashboard offset=Int.max, a signed exp of 2^63), streams
that outlived logout or user deletion, tickets that redeemed after logout, slots leaked by reset streams,
`ids=,`, login CSRF, the owner locked out by someone else's failures, and 2,000 idle sockets from one source.

  hostile_api.py --url URL --secret S --admin-password PW [--limit-url URL2 --limit-admin-password PW2]
"""
import argparse, base64, hashlib, hmac, http.client, json, re, resource, socket, struct, sys, time, urllib.parse

FAILS = []


def check(cond, msg):
    print(("ok:   " if cond else "FAIL: ") + msg)
    if not cond:
        FAILS.append(msg)


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class API:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port

    def call(self, method, path, token=None, body=None, headers=None, source="127.0.0.1", raw=None, ctype=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=(source, 0))
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h["Content-Type"] = ctype or "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        c.close()
        try:
            j = json.loads(payload) if payload and r.getheader("Content-Type", "").startswith("application/json") else None
        except ValueError:
            j = None
        return r.status, j, r, payload

    def alive(self, token):
        return self.call("GET", "/api/v1/stats", token)[0] == 200

    def login(self, user, pw, source="127.0.0.1"):
        s, j, _, _ = self.call("POST", "/api/v1/auth/login", body={"username": user, "password": pw}, source=source)
        return s, (j or {}).get("access_token")

    def open_stream(self, path, token=None):
        """A raw socket with the request sent; returns (socket, status line + headers)."""
        sk = socket.create_connection((self.host, self.port), timeout=10)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        sk.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            b = sk.recv(4096)
            if not b:
                break
            head += b
        return sk, head.decode(errors="replace")


def stream_closes_within(sk, seconds):
    sk.settimeout(1)
    end = time.time() + seconds
    data = b""
    while time.time() < end:
        try:
            b = sk.recv(65536)
        except socket.timeout:
            continue
        except ConnectionError:
            return True, data
        if not b:
            return True, data
        data += b
        if b"Session ended" in data:
            return True, data
    return False, data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--limit-url")
    ap.add_argument("--limit-admin-password")
    o = ap.parse_args()
    api = API(o.url)
    V1 = "/api/v1"
    s, admin = api.login("admin", o.admin_password)
    assert s == 200, s

    # 1. One request used to kill the API.
    s, j, _, _ = api.call("GET", V1 + "/stream?lastEventId=9223372036854775807", admin)
    check(s == 422 and api.alive(admin), f"lastEventId=2^63-1 -> 422 and the API lives (got {s})")
    s, j, _, _ = api.call("GET", V1 + "/logs?offset=99999999999999999999", admin)
    check(s == 422 and api.alive(admin), f"offset past Int64 -> 422 (got {s})")
    s, _, _, body = api.call("GET", "/attackers?offset=9223372036854775807", headers={"Cookie": "decnet_session=" + admin})
    check(s == 200 and api.alive(admin), f"dashboard /attackers?offset=Int.max -> 200 and the API lives (got {s})")
    now = int(time.time())
    for exp in (2 ** 63, 2 ** 64, 1e300):
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64(json.dumps({"uuid": "x", "jti": "y", "iat": now, "exp": exp, "iss": "decnet", "aud": "decnet-dashboard", "typ": "access"}).encode())
        sig = hmac.new(o.secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
        s, _, _, _ = api.call("GET", V1 + "/stats", f"{header}.{payload}.{b64(sig)}")
        check(s == 401 and api.alive(admin), f"signed token with exp={exp!r} -> 401 and the API lives (got {s})")
    s, j, _, _ = api.call("GET", V1 + "/deckies/lifecycle?ids=,", admin)
    check(s == 200 and j == {"rows": []}, f"ids=, (schema-valid) -> 200 with no rows (got {s} {j})")

    # /health names each component once (the bus was listed twice: the API's connection and the broker's heartbeat).
    c = http.client.HTTPConnection(api.host, api.port, timeout=10)
    c.request("GET", V1 + "/health", headers={"Authorization": "Bearer " + admin})
    raw = c.getresponse().read()
    dup = []
    def pairs(ps):
        keys = [k for k, _ in ps]
        dup.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(ps)
    h = json.loads(raw, object_pairs_hook=pairs)
    check(not dup and "bus" in h.get("components", {}), f"/health components are unique and the bus is there ({dup}, {list(h.get('components', {}))})")

    # 2. Revocation reaches live streams and tickets.
    s, j, _, _ = api.call("POST", V1 + "/config/users", admin, {"username": "streamer", "password": "streamer-first-pw", "role": "viewer"})
    uid = (j or {}).get("uuid")
    _, t0 = api.login("streamer", "streamer-first-pw")
    api.call("POST", V1 + "/auth/change-password", t0, {"old_password": "streamer-first-pw", "new_password": "streamer-second-pw"})
    _, tok = api.login("streamer", "streamer-second-pw")
    sk, head = api.open_stream(V1 + "/stream", tok)
    check(" 200 " in head.split("\r\n")[0], f"stream opens ({head.splitlines()[0] if head else 'nothing'})")
    s, _, _, _ = api.call("POST", V1 + "/auth/logout", tok)
    closed, _ = stream_closes_within(sk, 8)
    check(s == 200 and closed, "a stream opened before logout ends within 8 s of it")
    sk.close()
    _, tok = api.login("streamer", "streamer-second-pw")
    s, j, _, _ = api.call("POST", V1 + "/auth/sse-ticket", tok)
    ticket = (j or {}).get("ticket", "")
    api.call("POST", V1 + "/auth/logout", tok)
    s, _, _, _ = api.call("GET", V1 + "/stream?ticket=" + urllib.parse.quote(ticket))
    check(s == 401, f"a ticket minted before logout does not redeem -> 401 (got {s})")
    _, tok = api.login("streamer", "streamer-second-pw")
    sk, head = api.open_stream(V1 + "/stream", tok)
    api.call("DELETE", V1 + f"/config/users/{uid}", admin)
    closed, _ = stream_closes_within(sk, 8)
    check(closed, "a stream of a deleted user ends within 8 s")
    sk.close()

    # 3. Reset streams give their slot back (5 per user).
    for _ in range(12):
        sk, _ = api.open_stream(V1 + "/stream", admin)
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sk.close()  # RST
    for _ in range(12):  # reset before the response could even start
        sk = socket.create_connection((api.host, api.port))
        sk.sendall(f"GET {V1}/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\r\n".encode())
        sk.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sk.close()
    time.sleep(4.5)  # streams notice a gone client at their next 2 s re-check
    sk, head = api.open_stream(V1 + "/stream", admin)
    check(" 200 " in head.split("\r\n")[0], f"after 24 reset streams a new one still opens ({head.splitlines()[0] if head else 'nothing'})")
    sk.close()

    # 4. Dashboard login needs the login page's CSRF token; logout needs the session's.
    s, _, _, _ = api.call("POST", "/login", raw=f"username=admin&password={o.admin_password}".encode(), ctype="application/x-www-form-urlencoded")
    check(s == 403, f"dashboard POST /login without the page's token -> 403 (got {s})")
    s, _, r, page = api.call("GET", "/login")
    token = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    s, _, r, _ = api.call("POST", "/login", raw=f"username=admin&password={urllib.parse.quote(o.admin_password)}&csrf={token}".encode(),
                          ctype="application/x-www-form-urlencoded", headers={"Cookie": cookie, "Origin": f"http://{api.host}:{api.port}"})
    check(s == 303 and "decnet_session=" in (r.getheader("Set-Cookie") or ""), f"dashboard login with the page's token -> 303 + session (got {s})")
    s, _, _, _ = api.call("POST", "/login", raw=f"username=admin&password=x&csrf={token}".encode(), ctype="application/x-www-form-urlencoded",
                          headers={"Cookie": cookie, "Origin": "http://evil.example"})
    check(s == 403, f"dashboard login from another Origin -> 403 (got {s})")

    # 5. 2,000 idle connections from one source: a normal request (another source) still answers fast.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    idle = []
    for _ in range(2000):
        try:
            idle.append(socket.create_connection((api.host, api.port), timeout=5, source_address=("127.0.0.3", 0)))
        except OSError:
            pass
    time.sleep(0.5)
    times = []
    for _ in range(5):
        t = time.time()
        s, _, _, _ = api.call("GET", V1 + "/health", admin, source="127.0.0.4")
        times.append((time.time() - t) * 1000)
    best = min(times)
    check(s == 200 and best < 100, f"with {len(idle)} idle sockets from one source, /health answers in {best:.1f} ms (< 100)")
    for sk in idle:
        sk.close()

    # 6. Nobody can lock the owner out (second instance, default limit of 10 per 5 minutes).
    if o.limit_url:
        lim = API(o.limit_url)
        codes = [lim.call("POST", V1 + "/auth/login", body={"username": "admin", "password": "wrong-password!"}, source="127.0.0.5")[0] for _ in range(12)]
        check(codes[-1] == 429, f"one source's failures are limited (last of 12: {codes[-1]})")
        s, _ = lim.login("admin", o.limit_admin_password, source="127.0.0.6")
        check(s == 200, f"the owner, from a source that has not failed, logs in with the right password (got {s})")
        s, _ = lim.login("admin", "still-wrong-pw", source="127.0.0.6")
        s, _ = lim.login("admin", o.limit_admin_password, source="127.0.0.6")
        check(s == 429, f"a source that failed while the account is under attack is refused (got {s})")

    if FAILS:
        print(f"hostile_api: {len(FAILS)} failures")
        sys.exit(1)
    print("hostile_api: ok")


if __name__ == "__main__":
    main()
