#!/usr/bin/env bash
# api_tls.sh: `decnet api --tls auto` serves HTTPS with a self-signed pair it makes on first start;
# `decnet login --url https://… --ca-file <that certificate>` works (curl and openssl agree), a wrong CA is
# refused with a clear message and no token is saved, and unknown schemes / unreadable CA files are one-line
# errors (never a fall back to plain HTTP). The configuration file's bad input is refused with line numbers.
source "$(dirname "$0")/lib.sh"
export DECNET_BUS_ENABLED=false DECNET_CLIENT_CONFIG=$WORK/client.json
DECNET_JWT_SECRET=integration-secret-0123456789abcdefghij DECNET_ADMIN_PASSWORD=initial-admin-pw \
  "$DECNET" api --db "$WORK/api.db" --bind 127.0.0.1:0 --port-file "$WORK/api.port" --tls auto 2>"$WORK/api.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/api.port" ] && break; sleep 0.1; done
P=$(tr -d '\n' <"$WORK/api.port")
CRT=$WORK/api-tls.crt
test -s "$CRT" && test "$(stat -c %a "$WORK/api-tls.key")" = 600
grep -q "listening on https://" "$WORK/api.err"
# outside references agree on the certificate
curl -sf --cacert "$CRT" "https://127.0.0.1:$P/openapi.json" -o /dev/null
echo | openssl s_client -connect "127.0.0.1:$P" -CAfile "$CRT" -verify_return_error 2>/dev/null | grep -q "Verify return code: 0 (ok)"
if curl -s "http://127.0.0.1:$P/openapi.json" -o /dev/null --max-time 3 2>/dev/null; then
  # plain HTTP on the TLS port must not be answered as HTTP
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/openapi.json" --max-time 3 || true)
  [ "$code" != 200 ] || { echo "plain http answered on the https port" >&2; exit 1; }
fi

# the right CA: login works and the session remembers the CA
echo initial-admin-pw | "$DECNET" login --url "https://127.0.0.1:$P" --ca-file "$CRT" --password-stdin >"$WORK/login.out"
grep -q "logged in as admin at https://127.0.0.1:$P" "$WORK/login.out"
grep -q '"ca_file"' "$WORK/client.json"
rm -f "$WORK/client.json"

# a wrong CA: refused, clearly, nothing saved
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/other.key" -out "$WORK/other.crt" \
  -subj /CN=other -days 2 2>/dev/null
if echo initial-admin-pw | "$DECNET" login --url "https://127.0.0.1:$P" --ca-file "$WORK/other.crt" --password-stdin 2>"$WORK/wrong.err"; then
  echo "login with a wrong CA succeeded" >&2; exit 1
fi
grep -q "certificate is not trusted by $WORK/other.crt" "$WORK/wrong.err"
test ! -e "$WORK/client.json"

# no CA at all: the system store does not know a self-signed certificate
if echo initial-admin-pw | "$DECNET" login --url "https://127.0.0.1:$P" --password-stdin 2>"$WORK/nosys.err"; then
  echo "login trusted a self-signed certificate without --ca-file" >&2; exit 1
fi
grep -q "not trusted by the system's CA store" "$WORK/nosys.err"

# unknown scheme and unreadable CA: one line each, non-zero
if "$DECNET" login --url "ftp://127.0.0.1:$P" --password-stdin </dev/null 2>"$WORK/scheme.err"; then exit 1; fi
grep -q 'unknown scheme "ftp"' "$WORK/scheme.err"; test "$(wc -l <"$WORK/scheme.err")" -eq 1
if "$DECNET" login --url "https://127.0.0.1:$P" --ca-file "$WORK/missing.pem" --password-stdin </dev/null 2>"$WORK/ca.err"; then exit 1; fi
grep -q "cannot read the CA file $WORK/missing.pem" "$WORK/ca.err"; test "$(wc -l <"$WORK/ca.err")" -eq 1

# the second start reuses the pair (the pinned certificate stays valid)
sum=$(sha256sum "$CRT" | cut -d' ' -f1)
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
rm -f "$WORK/api.port"
DECNET_JWT_SECRET=integration-secret-0123456789abcdefghij "$DECNET" api --db "$WORK/api.db" --bind 127.0.0.1:0 \
  --port-file "$WORK/api.port" --tls auto 2>"$WORK/api2.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/api.port" ] && break; sleep 0.1; done
test "$(sha256sum "$CRT" | cut -d' ' -f1)" = "$sum"
curl -sf --cacert "$CRT" "https://127.0.0.1:$(tr -d '\n' <"$WORK/api.port")/openapi.json" -o /dev/null

# a configuration file with unknown keys, wrong types and conflicts: every problem with its line, exit 78
cat >"$WORK/bad.ini" <<'INI'
[api]
tls = auto
tls_cert = /etc/ssl/x.pem
tls_key = /etc/ssl/x.key
login_limit = many
colour = blue
[nowhere]
x = 1
INI
if "$DECNET" --config "$WORK/bad.ini" config 2>"$WORK/ini.err"; then echo "bad config accepted" >&2; exit 1; else rc=$?; fi
test "$rc" -eq 78
grep -q "bad.ini:5: login_limit: must be an integer" "$WORK/ini.err"
grep -q "bad.ini:6: unknown key colour in \[api\]" "$WORK/ini.err"
grep -q "bad.ini:7: unknown section \[nowhere\]" "$WORK/ini.err"
grep -q "api.tls_cert conflicts with api.tls = auto" "$WORK/ini.err"
printf '[bus]\nenabled = false\n' >"$WORK/good.ini"
DECNET_BUS_ENABLED= "$DECNET" --config "$WORK/good.ini" config | grep -q "bus.enabled = false.*good.ini:2"
echo "api_tls: ok"
