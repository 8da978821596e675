#!/usr/bin/env python3
"""Headless Chromium against the dashboard, driven over the DevTools protocol (stdlib only: a minimal
WebSocket client). Logs in through the form, screenshots login, overview, attackers and one attacker's
detail, checks each is non-blank and shows seeded data, then inserts an event into the store and measures
how long the overview's live feed (SSE) takes to show it (must be <= 2 s).

  dashboard_shots.py --url http://127.0.0.1:PORT --db STORE.db --user admin --password PW --out DIR
"""
import argparse, base64, json, os, socket, sqlite3, struct, subprocess, sys, tempfile, time, urllib.request, zlib

FAILS = []


def check(cond, msg):
    if not cond:
        FAILS.append(msg)
        print("FAIL:", msg)


class WS:
    """Just enough RFC 6455 for CDP: masked client text frames, unfragmented server text frames."""

    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.s = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.buf = b""
        self.next_id = 0

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536
                               else bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        payload = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload += self._read(n)
            if b0 & 0x80:
                return json.loads(payload)

    def call(self, method, **params):
        self.next_id += 1
        my = self.next_id
        self.send({"id": my, "method": method, "params": params})
        while True:
            m = self.recv()
            if m.get("id") == my:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})


def png_stats(data):
    """Distinct colours in the decoded image (a blank page has 1-2)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        typ = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    bpp = 4 if ctype == 6 else 3
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    i = 0
    for _ in range(height):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if len(colours) < 64:
            for x in range(0, stride, bpp * 7):
                colours.add(bytes(line[x:x + 3]))
    return width, height, len(colours)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--out", required=True)
    o = ap.parse_args()
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome") if os.path.exists(p)), None)
    if not chromium:
        print("dashboard: chromium not installed")
        sys.exit(1)
    profile = tempfile.mkdtemp(prefix="decnet-chromium-")
    port_file = os.path.join(profile, "DevToolsActivePort")
    proc = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-port=0",
                             "--window-size=1280,900", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
                break
            time.sleep(0.1)
        port = open(port_file).read().split("\n")[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
        page = next(t for t in targets if t["type"] == "page")
        ws = WS(page["webSocketDebuggerUrl"])
        ws.call("Page.enable")
        ws.call("Runtime.enable")

        def ev(expr):
            r = ws.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
            return r.get("result", {}).get("value")

        def goto(path, wait_for="document.readyState === 'complete'"):
            ws.call("Page.navigate", url=o.url + path)
            for _ in range(100):
                time.sleep(0.1)
                if ev(wait_for):
                    return True
            return False

        def shot(name, must_contain):
            data = base64.b64decode(ws.call("Page.captureScreenshot", format="png")["data"])
            path = os.path.join(o.out, f"{name}.png")
            with open(path, "wb") as f:
                f.write(data)
            w, h, colours = png_stats(data)
            text = ev("document.body.innerText") or ""
            check(colours >= 4, f"{name}: screenshot looks blank ({colours} colours)")
            for needle in must_contain:
                check(needle in text, f"{name}: page does not show {needle!r}")
            print(f"dashboard: {name}.png {w}x{h}, {len(data)} bytes, {colours}+ colours")

        db = sqlite3.connect(o.db)
        recent_ip = db.execute("SELECT attacker_ip FROM logs ORDER BY id DESC LIMIT 1").fetchone()[0]
        top_ip, top_uuid = db.execute("SELECT ip, uuid FROM attackers ORDER BY score DESC, last_seen DESC LIMIT 1").fetchone()
        total = db.execute("SELECT count(*) FROM logs").fetchone()[0]

        goto("/login")
        shot("login", ["Username", "Password"])
        ev(f"document.querySelector('input[name=username]').value = {json.dumps(o.user)};"
           f"document.querySelector('input[name=password]').value = {json.dumps(o.password)};"
           "document.querySelector('form.login').submit(); true")
        ok = False
        for _ in range(100):
            time.sleep(0.1)
            if ev("location.pathname === '/' && document.readyState === 'complete' && !!document.getElementById('feed')"):
                ok = True
                break
        check(ok, "login through the form lands on the overview")
        for _ in range(50):
            if ev("document.getElementById('feed-state').textContent.indexOf('live') === 0"):
                break
            time.sleep(0.1)
        check(ev("document.getElementById('feed-state').textContent").startswith("live"), "live feed connected")
        shot("overview", ["Live events", str(total), recent_ip])

        # Live feed: a new event written to the store appears on the page within 2 s.
        marker = f"198.51.100.{int(time.time()) % 250 + 1}"
        t0 = time.time()
        with db:
            db.execute("INSERT INTO logs (timestamp, decky, service, event_type, attacker_ip, severity, raw_line, fields) "
                       "VALUES (?, 'decky-live', 'ssh', 'login_attempt', ?, 6, 'live test', '{}')", (t0, marker))
        seen = None
        while time.time() - t0 < 5:
            if ev(f"Array.from(document.querySelectorAll('#feed tr')).some(function (tr) {{ return tr.textContent.indexOf({json.dumps(marker)}) >= 0; }})"):
                seen = time.time() - t0
                break
            time.sleep(0.05)
        check(seen is not None and seen <= 2.0, f"live feed shows a new event within 2 s (took {seen})")
        print(f"dashboard: live feed showed the new event after {seen:.2f} s" if seen else "dashboard: live event never shown")
        shot("overview-live", [marker])

        goto("/attackers")
        shot("attackers", ["Attackers", top_ip])
        goto(f"/attackers/{top_uuid}")
        shot("attacker-detail", [top_ip, "Credentials", "Traversal timeline", "Recent events"])
        goto("/deckies")
        shot("deckies", ["Deckies"])
        ws.s.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        subprocess.run(["rm", "-rf", profile])
    if FAILS:
        print(f"dashboard: {len(FAILS)} failures")
        sys.exit(1)
    print("dashboard: ok")


if __name__ == "__main__":
    main()
