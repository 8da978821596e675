#!/usr/bin/env python3
"""A stdlib client of the bus (spec §1.2 framing) for tests.
  bus_tool.py SOCKET sub PATTERN OUTFILE          one JSON line per event until killed
  bus_tool.py SOCKET pub-wait TOPIC JSON FILE TEXT DEADLINE
      publishes, then waits until FILE contains TEXT; prints the seconds it took; exit 1 past DEADLINE."""
import json, socket, struct, sys, time


def frame(verb, args="", body=None):
    b = b"" if body is None else json.dumps(body).encode()
    return (f"{verb} {args}".rstrip() + "\n").encode("ascii") + struct.pack(">I", len(b)) + b


def connect(path, name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(frame("HELLO", name))
    return s


def read_exact(s, n):
    out = b""
    while len(out) < n:
        c = s.recv(n - len(out))
        if not c:
            raise EOFError
        out += c
    return out


def read_frame(s):
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            raise EOFError
        line += c
    verb, _, args = line.decode("ascii").rstrip("\n").partition(" ")
    (n,) = struct.unpack(">I", read_exact(s, 4))
    body = read_exact(s, n)
    return verb, args, json.loads(body) if body else None


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    if cmd == "sub":
        s = connect(path, "test-sub")
        s.sendall(frame("SUB", sys.argv[3]))
        with open(sys.argv[4], "a") as out:
            while True:
                verb, args, body = read_frame(s)
                if verb == "EVT":
                    out.write(json.dumps({"topic": args, "event": body}) + "\n")
                    out.flush()
    elif cmd == "pub-wait":
        topic, payload, file, text, deadline = sys.argv[3], json.loads(sys.argv[4]), sys.argv[5], sys.argv[6], float(sys.argv[7])
        s = connect(path, "test-pub")
        t0 = time.monotonic()
        s.sendall(frame("PUB", topic, {"type": "mutate_request", "payload": payload}))
        while time.monotonic() - t0 < deadline + 5:
            try:
                if text in open(file).read():
                    dt = time.monotonic() - t0
                    print(f"{dt:.3f}")
                    sys.exit(0 if dt <= deadline else 1)
            except FileNotFoundError:
                pass
            time.sleep(0.01)
        print("never")
        sys.exit(1)


if __name__ == "__main__":
    main()
