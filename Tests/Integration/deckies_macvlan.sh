#!/usr/bin/env bash
# deckies_macvlan.sh: the production link type. The parent is a plain NIC (here one end of a veth whose
# other end sits in a "LAN" namespace, as a switch port would); deckies get macvlans on it, with the
# persona's MAC, reachable from the LAN side (the host itself cannot reach macvlan children, by design).
source "$(dirname "$0")/lib.sh"
LAN=${PFX}lan
ip netns add "$LAN"
ip link add "${PFX}p" type veth peer name "${PFX}q"
ip link set "${PFX}q" netns "$LAN"
ip link set "${PFX}p" up
ip -n "$LAN" addr add "$NET.1/24" dev "${PFX}q"
ip -n "$LAN" link set "${PFX}q" up
ip -n "$LAN" link set lo up
export DECNET_DB_PATH=$WORK/store.db
DK="--netns-prefix ${PFX}-"
"$DECNET" deploy $DK -n 2 -i "${PFX}p" --subnet "$NET.0/24" --ip-start "$NET.20" --services http,redis >"$WORK/deploy.out"
cat "$WORK/deploy.out"
[ "$(ip -n "${PFX}-decky-01" -d link show eth0 | grep -c macvlan)" = 1 ] || { echo "eth0 is not a macvlan"; exit 1; }
start_serve 2
[ "$(ip netns exec "$LAN" curl -s -o /dev/null -w '%{http_code}' "http://$NET.20/")" = 200 ]
[ "$(ip netns exec "$LAN" redis-cli -h "$NET.21" PING)" = PONG ]
mac=$(awk '$2 == "'"$NET.20"'" {print $3}' "$WORK/deploy.out")
ip netns exec "$LAN" ip neigh show "$NET.20" | grep -qi "$mac" || { echo "LAN does not see $mac"; ip netns exec "$LAN" ip neigh; exit 1; }
# a restart adopts macvlan deckies too
kill -9 "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
: >"$WORK/serve.err"
start_serve 2
grep -q "adopted 2 existing" "$WORK/serve.err"
[ "$(ip netns exec "$LAN" curl -s -o /dev/null -w '%{http_code}' "http://$NET.21/")" = 200 ]
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
"$DECNET" teardown $DK --all >/dev/null
[ "$(ip netns list | grep -c "^${PFX}-" || true)" = 0 ]
echo "deckies_macvlan: ok"
