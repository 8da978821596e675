#!/usr/bin/env python3
"""ssh_check.py: checks for Tests/Integration/ssh_decoy.sh (stdlib + python3-cryptography only).

  ssh_check.py audit FIXTURE_KEXINIT.json SSH_AUDIT_OUT.json   ssh-audit -j lists == the persona reference
  ssh_check.py nmap FIXTURE_KEXINIT.json NMAP_OUT.txt           nmap -sV + scripts print product, version, lists
  ssh_check.py hostile IP PORT                                   hostile clients (each must be closed, no crash)
  ssh_check.py badmac IP PORT                                    a real kex (curve25519, aes128-ctr, hmac-sha2-256),
                                                                 then a packet with a wrong MAC: DISCONNECT + close
Only the address given (a decky inside the test's own namespace) is contacted.
"""
import hashlib, hmac, json, os, re, socket, struct, sys, time


def fixture(path):
    return json.load(open(path))


def audit(fx_path, out_path):
    fx = fixture(fx_path)
    k = fx["kexinit"]
    got = json.load(open(out_path))
    names = lambda key: [a["algorithm"] for a in got.get(key, [])]
    checks = [("banner", got["banner"]["raw"], fx["banner"]), ("kex", names("kex"), k["kex"]),
              ("key", names("key"), k["host_key"]), ("enc", names("enc"), k["enc_s2c"]),
              ("mac", names("mac"), k["mac_s2c"]), ("compression", got.get("compression"), k["comp_s2c"])]
    # where ssh-audit's own output against the real sshd was recorded, the decoy's must equal it too
    recorded = fx_path.replace(".kexinit.json", ".ssh-audit.json")
    if os.path.exists(recorded):
        ref = json.load(open(recorded))
        rn = lambda key: [a["algorithm"] for a in ref[key]]
        checks += [("recorded banner", {k: got["banner"].get(k) for k in ref["banner"]}, ref["banner"]),
                   ("recorded kex", names("kex"), rn("kex")), ("recorded key", names("key"), rn("key")),
                   ("recorded enc", names("enc"), rn("enc")), ("recorded mac", names("mac"), rn("mac")),
                   ("recorded compression", got.get("compression"), ref["compression"])]
        rsa = [a.get("keysize") for a in got["key"] if a["algorithm"].startswith("rsa-")]
        rsa_ref = [a.get("keysize") for a in ref["key"] if a["algorithm"].startswith("rsa-")]
        checks.append(("recorded rsa keysize", rsa, rsa_ref))
    bad = [(n, g, w) for n, g, w in checks if g != w]
    for n, g, w in bad:
        print(f"ssh-audit {n}: got {g}\n  want {w}")
    if bad:
        sys.exit(1)
    print(f"ssh-audit == reference ({fx['banner']}): banner, {len(k['kex'])} kex, {len(k['host_key'])} host key, "
          f"{len(k['enc_s2c'])} enc, {len(k['mac_s2c'])} mac, {len(k['comp_s2c'])} compression, in order")


def live(real_path, decoy_path):
    real, got = json.load(open(real_path)), json.load(open(decoy_path))
    names = lambda d, key: [a["algorithm"] for a in d.get(key, [])]
    for key in ["kex", "key", "enc", "mac"]:
        assert names(real, key) == names(got, key), f"live sshd {key}: {names(real, key)} != decoy {names(got, key)}"
    assert real["compression"] == got["compression"]
    assert real["banner"]["software"] == got["banner"]["software"], (real["banner"], got["banner"])
    print(f"ssh-audit lists == the installed sshd's ({real['banner']['raw']})")


def nmap(fx_path, out_path):
    fx = fixture(fx_path)
    text = open(out_path).read()
    soft = fx["banner"][len("SSH-2.0-"):]
    product, rest = soft.split("_", 1)
    version, _, comment = rest.partition(" ")
    distro = comment.split("-")[0]
    line = re.search(r"22/tcp\s+open\s+ssh\s+(.*)", text)
    assert line, "no open ssh line"
    want = f"{product} {version} {comment.replace('-', ' ', 1)}"
    assert line.group(1).startswith(want), f"nmap version {line.group(1)!r}, want {want!r}"
    # nmap's service rule adds the OS for Ubuntu banners ("(Ubuntu Linux; protocol 2.0)"), not for Debian's
    # deb12uN form: the real 9.2p1 prints "OpenSSH 9.2p1 Debian 2+deb12u10 (protocol 2.0)" (decoys.md §3.3).
    want_tail = "(Ubuntu Linux; protocol 2.0)" if distro == "Ubuntu" else "(protocol 2.0)"
    assert line.group(1).rstrip().endswith(want_tail), line.group(1)
    k = fx["kexinit"]
    # ssh2-enum-algos prints each list under its heading in server order
    for head, lst in [("kex_algorithms", k["kex"]), ("server_host_key_algorithms", k["host_key"]),
                      ("encryption_algorithms", k["enc_s2c"]), ("mac_algorithms", k["mac_s2c"]),
                      ("compression_algorithms", k["comp_s2c"])]:
        m = re.search(rf"{head}: \({len(lst)}\)\n((?:\|_?\s+\S+\n)+)", text)
        assert m, f"nmap: no {head} ({len(lst)})"
        got = [l.strip("|_ ").strip() for l in m.group(1).splitlines()]
        assert got == lst, f"nmap {head}: {got} != {lst}"
    # nmap 7.93's ssh-hostkey asks for ssh-rsa (SHA-1) RSA keys, which OpenSSH >= 8.8 no longer offers:
    # against the real servers it lists the ECDSA and Ed25519 keys only, and so must we.
    for kt in ["(ECDSA)", "(ED25519)"]:
        assert kt in text, f"ssh-hostkey: no {kt} key"
    assert "(RSA)" not in text, "ssh-hostkey listed an RSA key via ssh-rsa, which this OpenSSH does not offer"
    assert re.search(r"Supported authentication methods:\s*\n\|\s+publickey\n\|_?\s+password", text), "ssh-auth-methods"
    assert "honeypot" not in text.lower()
    print(f"nmap: {line.group(1).strip()}; lists in order, ECDSA + Ed25519 host keys, auth methods publickey,password")


# ---- raw SSH client pieces ----

def sstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def mpint(b):
    b = b.lstrip(b"\0")
    if b and b[0] & 0x80:
        b = b"\0" + b
    return sstr(b)


def plain_packet(payload, block=8):
    pad = block - (5 + len(payload)) % block
    if pad < 4:
        pad += block
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + b"\0" * pad


class Conn:
    def __init__(self, ip, port):
        self.s = socket.create_connection((ip, port), timeout=10)
        self.buf = b""

    def recv_line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise EOFError
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def recv_exact(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_plain(self):
        plen, = struct.unpack(">I", self.recv_exact(4))
        body = self.recv_exact(plen)
        return body[1:plen - body[0]]

    def closed_within(self, secs):
        """True when the server closes the connection within secs (reading and discarding what it sends)."""
        self.s.settimeout(secs)
        end = time.time() + secs
        try:
            while time.time() < end:
                if not self.s.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return False


CLIENT_KEXINIT_LISTS = [
    "curve25519-sha256,ext-info-c", "ssh-ed25519,rsa-sha2-256", "aes128-ctr", "aes128-ctr",
    "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""]


def kexinit_payload(lists):
    return bytes([20]) + os.urandom(16) + b"".join(sstr(l) for l in lists) + b"\0" + b"\0\0\0\0"


def start(ip, port):
    c = Conn(ip, port)
    banner = c.recv_line()
    assert banner.startswith(b"SSH-2.0-OpenSSH_"), banner
    c.s.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6\r\n")
    srv = c.recv_plain()
    assert srv[0] == 20, srv[:1]
    return c, banner, srv


def hostile(ip, port, ref=None):
    """Hostile clients; each case yields (bytes the server sent back, closed?). With ref (a real sshd of the
    same version on loopback) every case must get the same answer from both."""

    def outcome(c, secs=3):
        c.s.settimeout(secs)
        out, closed = c.buf, False
        end = time.time() + secs
        try:
            while time.time() < end:
                d = c.s.recv(65536)
                if not d:
                    closed = True
                    break
                out += d
        except (ConnectionResetError, BrokenPipeError):
            closed = True
        except socket.timeout:
            pass
        c.s.close()
        if len(out) > 22 and out[5] == 20:
            out = out[:6] + bytes(16) + out[22:]       # a KEXINIT's random cookie
        return out, closed

    def garbage_banner(ip, port):
        c = Conn(ip, port); c.recv_line()
        c.s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        return outcome(c)

    def old_protocol(ip, port):
        c = Conn(ip, port); c.recv_line()
        c.s.sendall(b"SSH-1.5-scanner\r\n")
        return outcome(c)

    def long_banner(ip, port):
        c = Conn(ip, port); c.recv_line()
        c.s.sendall(b"SSH-2.0-" + b"A" * 5000 + b"\r\n")
        return outcome(c)

    def too_long_banner(ip, port):
        c = Conn(ip, port); c.recv_line()
        c.s.sendall(b"SSH-2.0-" + b"A" * 9000 + b"\r\n")
        return outcome(c)

    def after_kexinit(payload):
        def run(ip, port):
            c, _, _ = start(ip, port)
            c.s.sendall(payload)
            return outcome(c)
        return run

    lists = list(CLIENT_KEXINIT_LISTS); lists[2] = lists[3] = "3des-cbc,arcfour"
    strict = list(CLIENT_KEXINIT_LISTS); strict[0] += ",kex-strict-c-v00@openssh.com"
    cases = [
        ("garbage_banner", garbage_banner), ("old_protocol", old_protocol), ("long_banner", long_banner), ("too_long_banner", too_long_banner),
        ("huge_length", after_kexinit(struct.pack(">I", 0xFFFFFFF0) + bytes(64))),
        ("bad_padding", after_kexinit(struct.pack(">IB", 12, 200) + bytes(11))),
        ("misaligned", after_kexinit(struct.pack(">IB", 13, 4) + bytes(12))),
        ("no_common_cipher", after_kexinit(plain_packet(kexinit_payload(lists)))),
        ("message_before_kexinit", after_kexinit(plain_packet(bytes([5]) + sstr("ssh-userauth")))),
        ("strict_violation", after_kexinit(plain_packet(kexinit_payload(strict)) + plain_packet(bytes([2]) + sstr("x")))),
        ("truncated_kexinit", after_kexinit(plain_packet(bytes([20]) + bytes(10)))),
        ("bad_curve_point", after_kexinit(plain_packet(kexinit_payload(CLIENT_KEXINIT_LISTS)) + plain_packet(bytes([30]) + sstr(bytes(32))))),
        ("userauth_during_kex", after_kexinit(plain_packet(kexinit_payload(CLIENT_KEXINIT_LISTS)) + plain_packet(bytes([50]) + sstr("root")))),
    ]
    failed = []
    for name, fn in cases:
        got = fn(ip, port)
        line = f"{name}: {'closed' if got[1] else 'open'} {got[0][:48]!r}"
        if ref:
            want = fn(*ref)
            if got != want:
                failed.append(f"{name}: decoy {got} != sshd {want}")
            line += " (= sshd)" if got == want else " (sshd differs)"
        # every case but the one sshd tolerates must end the connection
        if name not in ("message_before_kexinit", "long_banner") and not got[1]:
            failed.append(f"{name}: connection left open")
        print("  " + line)
    for _ in range(50):
        c, _, _ = start(ip, port)
        c.s.sendall(os.urandom(int.from_bytes(os.urandom(2), "big") % 3000 + 1))
        c.s.close()
    print(f"hostile clients: {len(cases)} cases{' identical to the real sshd' if ref and not failed else ''}, 50 random-byte clients")
    if failed:
        print("\n".join(failed))
        sys.exit(1)


class HandClient:
    """curve25519-sha256 + aes128-ctr + hmac-sha2-256 done by hand (no SSH library), so tests can send
    what no real client would, with valid keys."""

    def __init__(self, ip, port):
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        c, banner, srv_kexinit = start(ip, port)
        self.c = c
        v_c = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6"
        my_kexinit = kexinit_payload(CLIENT_KEXINIT_LISTS)
        c.s.sendall(plain_packet(my_kexinit))
        priv = X25519PrivateKey.generate()
        q_c = priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        c.s.sendall(plain_packet(bytes([30]) + sstr(q_c)))
        reply = c.recv_plain()
        assert reply[0] == 31, reply[:1]
        off = 1
        ln, = struct.unpack(">I", reply[off:off + 4]); k_s = reply[off + 4:off + 4 + ln]; off += 4 + ln
        ln, = struct.unpack(">I", reply[off:off + 4]); q_s = reply[off + 4:off + 4 + ln]
        k = mpint(priv.exchange(X25519PublicKey.from_public_bytes(q_s)))
        h = hashlib.sha256(sstr(v_c) + sstr(banner) + sstr(my_kexinit) + sstr(srv_kexinit) + sstr(k_s) + sstr(q_c) + sstr(q_s) + k).digest()
        assert c.recv_plain() == bytes([21]), "no NEWKEYS"
        c.s.sendall(plain_packet(bytes([21])))

        def derive(letter, n):
            out = hashlib.sha256(k + h + letter + h).digest()
            while len(out) < n:
                out += hashlib.sha256(k + h + out).digest()
            return out[:n]

        self.enc = Cipher(algorithms.AES(derive(b"C", 16)), modes.CTR(derive(b"A", 16))).encryptor()
        self.dec = Cipher(algorithms.AES(derive(b"D", 16)), modes.CTR(derive(b"B", 16))).decryptor()
        self.mkey, self.smkey = derive(b"E", 32), derive(b"F", 32)
        self.sseq, self.rseq = 3, 3        # KEXINIT, KEX_ECDH_INIT/REPLY, NEWKEYS were 0, 1, 2 both ways

    def send(self, payload, flip=False):
        pkt = plain_packet(payload, 16)
        pkt = pkt[:5 + len(payload)] + os.urandom(pkt[4])
        mac = bytearray(hmac.new(self.mkey, struct.pack(">I", self.sseq) + pkt, hashlib.sha256).digest())
        if flip:
            mac[0] ^= 0x01
        self.c.s.sendall(self.enc.update(pkt) + bytes(mac))
        self.sseq += 1

    def recv(self):
        first = self.dec.update(self.c.recv_exact(16))
        plen, = struct.unpack(">I", first[:4])
        body = first + self.dec.update(self.c.recv_exact(plen + 4 - 16))
        mac = self.c.recv_exact(32)
        assert hmac.compare_digest(mac, hmac.new(self.smkey, struct.pack(">I", self.rseq) + body, hashlib.sha256).digest()), "server MAC"
        self.rseq += 1
        return body[5:4 + plen - body[4]]

    def login(self, user, password):
        assert self.recv()[0] == 7, "no EXT_INFO"
        self.send(bytes([5]) + sstr("ssh-userauth"))
        assert self.recv()[0] == 6, "no SERVICE_ACCEPT"
        self.send(bytes([50]) + sstr(user) + sstr("ssh-connection") + sstr("password") + b"\0" + sstr(password))
        return self.recv()[0]


def badmac(ip, port):
    """A hand-made client completes the exchange (its keys agree with ours), then sends a wrong MAC."""
    h = HandClient(ip, port)
    assert h.recv()[0] == 7, "no EXT_INFO"
    h.send(bytes([5]) + sstr("ssh-userauth"))
    assert h.recv()[0] == 6, "no SERVICE_ACCEPT"
    print("hand-made client: curve25519-sha256 + aes128-ctr + hmac-sha2-256 keys agree (EXT_INFO, SERVICE_ACCEPT verified)")
    h.send(bytes([5]) + sstr("ssh-userauth"), flip=True)
    closed = h.c.closed_within(5)
    print(f"bad MAC after a real key exchange: {'closed' if closed else 'still open'}")
    if not closed:
        sys.exit(1)


def postauth(ip, port):
    """Protocol violations after a successful login: each closes the connection."""
    cases = {
        "unknown_channel": bytes([98]) + struct.pack(">I", 99) + sstr("shell") + b"\1",
        "string_past_end": bytes([90]) + struct.pack(">I", 0xFFFF) + b"sess",
        "data_before_open": bytes([94]) + struct.pack(">I", 0) + sstr("x"),
    }
    bad = []
    for name, payload in cases.items():
        h = HandClient(ip, port)
        assert h.login("root", "admin") == 52, "login failed"
        h.send(payload)
        closed = h.c.closed_within(5)
        print(f"  after login, {name}: {'closed' if closed else 'OPEN'}")
        if not closed:
            bad.append(name)
    # and a valid session on the same machinery: open, exec, read the output
    h = HandClient(ip, port)
    assert h.login("root", "admin") == 52
    h.send(bytes([90]) + sstr("session") + struct.pack(">III", 0, 1 << 20, 32768))
    m = h.recv()
    assert m[0] == 80 and m[5:5 + 23] == b"hostkeys-00@openssh.com", "sshd announces its host keys after login"
    assert h.recv()[0] == 91, "no CHANNEL_OPEN_CONFIRMATION"
    h.send(bytes([98]) + struct.pack(">I", 0) + sstr("exec") + b"\1" + sstr("id"))
    got = b""
    while True:
        m = h.recv()
        if m[0] == 94:
            got += m[9:]
        if m[0] == 97:
            break
    assert b"uid=0(root)" in got, got
    print("  a valid exec over the hand-made client: " + got.decode().strip())
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "audit":
        audit(sys.argv[2], sys.argv[3])
    elif cmd == "live":
        live(sys.argv[2], sys.argv[3])
    elif cmd == "nmap":
        nmap(sys.argv[2], sys.argv[3])
    elif cmd == "hostile":
        hostile(sys.argv[2], int(sys.argv[3]), (sys.argv[4], int(sys.argv[5])) if len(sys.argv) > 5 else None)
    elif cmd == "badmac":
        badmac(sys.argv[2], int(sys.argv[3]))
    elif cmd == "postauth":
        postauth(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"unknown command {cmd}")
