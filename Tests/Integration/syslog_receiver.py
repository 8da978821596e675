#!/usr/bin/env python3
"""syslog_receiver.py: an RFC 5425 receiver for swarm.sh (stdlib only): TLS on HOST:PORT with CERT/KEY, client
certificates required when CLIENT_CA is given, octet-counted frames parsed strictly (1-10 digits, one space,
exactly that many bytes; anything else is a framing error and closes the connection). One line per frame in OUT;
framing errors counted in OUT.errors.

  syslog_receiver.py HOST PORT CERT KEY OUT [CLIENT_CA]
"""
import socket, ssl, sys, threading

host, port, cert, key, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(cert, key)
if len(sys.argv) > 6:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(sys.argv[6])
lock = threading.Lock()
errors = 0


def serve(conn):
    global errors
    buf = b""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            buf += data
            while True:
                sp = buf.find(b" ")
                if sp < 0:
                    if len(buf) > 10:
                        raise ValueError("no length prefix")
                    break
                head = buf[:sp]
                if not (1 <= len(head) <= 10 and head.isdigit()):
                    raise ValueError(f"bad length prefix {head[:20]!r}")
                n = int(head)
                if len(buf) < sp + 1 + n:
                    break
                msg = buf[sp + 1: sp + 1 + n]
                buf = buf[sp + 1 + n:]
                if not msg.startswith(b"<") or b"\n" in msg:
                    raise ValueError("frame is not one RFC 5424 message")
                with lock:
                    with open(out, "ab") as f:
                        f.write(msg + b"\n")
    except Exception as e:  # framing error: count it and drop the connection
        with lock:
            errors += 1
            with open(out + ".errors", "w") as f:
                f.write(f"{errors} {e}\n")
    finally:
        conn.close()


srv = socket.create_server((host, port))
open(out, "ab").close()
while True:
    raw, _ = srv.accept()
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        continue
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
