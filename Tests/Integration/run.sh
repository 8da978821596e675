#!/usr/bin/env bash
# Tests/Integration/run.sh: the live-sensor and decky integration tests (real namespaces, veths, clients and servers).
# They need root (namespaces, raw capture); without it they are reported as skipped, never as passed.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then echo "integration: SKIPPED (needs root for namespaces and capture)"; exit 0; fi
for t in sensor_bad_input.sh sensor_clients.sh corpus_replay.sh sensor_kill9.sh sensor_synflood.sh \
         deckies_bad_input.sh deckies_clients.sh deckies_macvlan.sh deckies_scale.sh attackers_scenario.sh ssh_decoy.sh \
         deckies_idle_flood.sh serve_supervisor.sh store_disk_full.sh privileges.sh api_tls.sh up_demo.sh daemons_sigterm.sh swarm.sh; do
  echo "== $t"
  bash "./$t"
done
echo "integration: all passed"
