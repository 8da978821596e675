#!/usr/bin/env python3
"""Speaks the original DECNET bus framing (spec §1.2) with nothing but the standard library, against a
broker at argv[1]. Exits 0 when every check holds, else prints what failed and exits 1."""
import json, re, socket, struct, sys, time

path = sys.argv[1]

def frame(verb, args="", body=None):
    b = b"" if body is None else json.dumps(body).encode()
    return (f"{verb} {args}".rstrip() + "\n").encode("ascii") + struct.pack(">I", len(b)) + b

def conn(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(frame("HELLO", name))
    s.settimeout(3)
    return s

def read_frame(s):
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            return None
        buf += c
    verb, _, args = buf.decode("ascii").rstrip("\r\n").partition(" ")
    n = b""
    while len(n) < 4:
        n += s.recv(4 - len(n))
    (length,) = struct.unpack(">I", n)
    body = b""
    while len(body) < length:
        body += s.recv(length - len(body))
    return verb, args.strip(), (json.loads(body) if body else {})

fails = []
def check(cond, what):
    if not cond:
        fails.append(what)

sub = conn("py-sub")
sub.sendall(frame("SUB", "decky.*.mutation") + frame("SUB", "decky.web01.>"))
pub = conn("py-pub")
pub.sendall(frame("SUB", "decky.>"))        # the publisher is subscribed too: the broker must not echo to it
time.sleep(0.3)
payload = {"decky": "web01", "old_services": ["ssh"], "new_services": ["http", "ftp"], "n": 1.5, "u": "\u00e9\n"}
pub.sendall(frame("PUB", "decky.web01.mutation", {"type": "mutation", "payload": payload, "id": "spoofed", "topic": "x.y"}))
got = read_frame(sub)
check(got is not None, "subscriber got nothing")
if got:
    verb, topic, env = got
    check(verb == "EVT", f"verb {verb}")
    check(topic == "decky.web01.mutation", f"topic {topic}")
    check(env.get("v") == 1, f"v {env.get('v')}")
    check(re.fullmatch(r"[0-9a-f]{32}", env.get("id", "")) is not None and env["id"] != "spoofed", f"id {env.get('id')}")
    check(env.get("topic") == "decky.web01.mutation", f"body topic {env.get('topic')}")
    check(env.get("type") == "mutation", f"type {env.get('type')}")
    check(isinstance(env.get("ts"), float) and abs(env["ts"] - time.time()) < 5, f"ts {env.get('ts')}")
    check(env.get("payload") == payload, f"payload {env.get('payload')}")
    check(list(env.keys()) == ["v", "id", "topic", "type", "ts", "payload"], f"key order {list(env.keys())}")
# Two matching patterns on one connection still deliver once; falsy payload/type get the original defaults.
pub.sendall(frame("PUB", "decky.web01.mutation", {"payload": None}))
got = read_frame(sub)
check(got is not None and got[2].get("payload") == {} and got[2].get("type") == "", f"defaults {got}")
sub.settimeout(0.5)
try:
    extra = read_frame(sub)
    check(False, f"duplicate delivery {extra}")
except socket.timeout:
    pass
pub.settimeout(0.5)
try:
    echo = read_frame(pub)
    check(False, f"publisher received its own event {echo}")
except socket.timeout:
    pass
# UNSUB stops delivery.
sub.settimeout(3)
sub.sendall(frame("UNSUB", "decky.*.mutation") + frame("UNSUB", "decky.web01.>"))
time.sleep(0.2)
pub.sendall(frame("PUB", "decky.web01.mutation", {"payload": {"x": 1}}))
sub.settimeout(0.5)
try:
    check(False, f"delivered after UNSUB {read_frame(sub)}")
except socket.timeout:
    pass
# A malformed frame drops that connection only.
bad = conn("py-bad")
bad.sendall(b"PUB a.b\n" + struct.pack(">I", 3) + b"[1]")
bad.settimeout(3)
check(bad.recv(1) == b"", "connection with a non-object body was not dropped")
# EVT from a client is a protocol error too.
bad2 = conn("py-bad2")
bad2.sendall(frame("EVT", "a.b", {}))
bad2.settimeout(3)
check(bad2.recv(1) == b"", "connection sending EVT was not dropped")
# The broker still serves.
sub.settimeout(3)
sub.sendall(frame("SUB", "system.>"))
time.sleep(0.2)
pub.sendall(frame("PUB", "system.sniffer.health", {"type": "health", "payload": {"worker": "sniffer", "ts": 1.0}}))
got = read_frame(sub)
check(got is not None and got[1] == "system.sniffer.health", f"after errors {got}")
pub.sendall(frame("BYE"))
check(pub.recv(1) == b"", "BYE did not end the connection")

if fails:
    print("FAIL: " + "; ".join(fails))
    sys.exit(1)
print("interop ok")
