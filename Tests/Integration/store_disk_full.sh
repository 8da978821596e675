#!/usr/bin/env bash
# store_disk_full.sh (issue 16): when the store's disk fills up, events used to be dropped without a log line
# while /api/v1/health said healthy. Now /api/v1/health says degraded (component "store") within 5 s, `decnet
# serve` logs why exactly once (not once per batch), and logs again once when writing works again. The store
# lives on a 24 MiB tmpfs of this test; only our own decky is contacted.
source "$(dirname "$0")/lib.sh"
make_bridge
FULL=$WORK/full
mkdir -p "$FULL"
mount -t tmpfs -o size=24m tmpfs "$FULL"
trap 'umount -l "$FULL" 2>/dev/null || true; cleanup' EXIT
export DECNET_DB_PATH=$FULL/store.db
DK="--netns-prefix ${PFX}-"
D1=$NET.10
"$DECNET" deploy $DK -n 1 -i "$BR" --ip-start "$D1" --services http,ftp >/dev/null
start_serve 1 --artifacts-dir "$FULL/art"
start_api_admin "$DECNET_DB_PATH"
URL=$API
health() { curl -s "$URL/health" -H "Authorization: Bearer $T"; }
health | python3 -c 'import sys,json; h=json.load(sys.stdin); assert h["components"]["store"]["status"]=="ok", h'
for _ in $(seq 5); do curl -s -m 2 "http://$D1/" >/dev/null; done

echo "-- fill the disk"
dd if=/dev/zero of="$FULL/filler" bs=1M 2>/dev/null || true
t0=$(date +%s.%N)
for _ in $(seq 50); do
  health | grep -q '"status":"degraded"' && break
  sleep 0.1
done
t1=$(date +%s.%N)
health | python3 -c '
import sys, json
h = json.load(sys.stdin)
assert h["status"] == "degraded" and h["components"]["store"]["status"] == "failing", h
assert "full" in h["components"]["store"]["detail"], h
names = list(h["components"])
assert len(names) == len(set(names)), h
print("health:", h["status"], "-", h["components"]["store"]["detail"])'
echo "degraded after $(echo "$t1 - $t0" | bc | cut -c1-4) s"
curl -s "${URL%/api/v1}/workers" -H "Cookie: decnet_session=$T" | grep -q 'id="store-failing"' || { echo "the dashboard does not show the store failing"; exit 1; }
[ "$(echo "$t1 - $t0 < 5" | bc)" = 1 ] || { echo "health took 5 s or more to say degraded"; exit 1; }
for round in 1 2 3; do
  for _ in $(seq 20); do curl -s -m 2 "http://$D1/x$round" >/dev/null; done
  sleep 1.5
done
n=$(grep -c "store: cannot write" "$WORK/serve.err" || true)
[ "$n" = 1 ] || { echo "serve said 'cannot write' $n times (want once)"; grep store "$WORK/serve.err" | head; exit 1; }
grep "store: cannot write" "$WORK/serve.err" | grep -q "$DECNET_DB_PATH" || { echo "the log line does not name the store"; exit 1; }
grep -q "database or disk is full" "$WORK/serve.err" || { echo "the log line does not say why"; grep "store:" "$WORK/serve.err"; exit 1; }
kill -0 "$SERVE" || { echo "serve died with a full disk"; exit 1; }
# An upload while the disk is full: kept as far as it got, named by the hash of exactly what the file holds.
head -c 300000 /dev/urandom > "$WORK/up.bin"
timeout 30 lftp -u anonymous,x@y -e "set ftp:passive-mode on; set net:max-retries 1; cd upload; put $WORK/up.bin -o full.bin; bye" "$D1" >/dev/null 2>&1 || true
for _ in $(seq 30); do grep -q '"event_type":"ftp.file_upload"' "$WORK/decoys.log.json" 2>/dev/null && break; sleep 0.2; done
python3 - "$WORK/decoys.log.json" <<'PY'
import hashlib, json, os, sys
ups = [json.loads(l) for l in open(sys.argv[1]) if '"ftp.file_upload"' in l]
assert ups, "no upload event"
f = ups[-1]["fields"]
path = f["stored_as"]
data = open(path, "rb").read() if os.path.exists(path) else b""
assert hashlib.sha256(data).hexdigest() == f["sha256"] == os.path.basename(path), (f, len(data))
assert int(f["size"]) == len(data) < 300000 and f["truncated"] == "true" and f.get("limited_by", "").startswith("write_error"), f
print(f"upload on a full disk: kept {len(data)} of {f['received']} bytes, named by their hash ({f['limited_by']})")
PY

echo "-- free it again"
rm -f "$FULL/filler"
for _ in $(seq 20); do curl -s -m 2 "http://$D1/again" >/dev/null; done
for _ in $(seq 50); do grep -q "store: writing again" "$WORK/serve.err" && break; sleep 0.2; done
grep -q "store: writing again" "$WORK/serve.err" || { echo "no recovery line"; grep store "$WORK/serve.err"; exit 1; }
health | python3 -c 'import sys,json; h=json.load(sys.stdin); assert h["components"]["store"]["status"]=="ok", h'
"$DECNET" teardown $DK --all >/dev/null
echo "store_disk_full: all passed"
