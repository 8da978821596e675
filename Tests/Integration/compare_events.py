#!/usr/bin/env python3
"""compare_events.py SENSOR_JSONL SNIFF_JSONL [--require F,F] [--except F,F]

Compares the fingerprint values in the live sensor's events (the JSON Lines sink) with those
`decnet sniff --read` gives for a capture of the same traffic: for every fingerprint family, the set of
values must be equal. Sets, not per-flow lists: the sensor deduplicates repeats of the same value
from the same source (spec 7.2), the file reader reports every flow. Exit 1 on any difference.
--require: families that must be non-empty on both sides. --except: families not compared.
"""
import json, sys

# family -> (sensor (event, field) pairs, sniff flow field)
FAMILIES = {
    # JA3 outside QUIC only (JA4 prefix "q"): quic_client_hello carries ja4_quic, deduplicated on it
    # (spec 7.2), and no JA3 (browsers shuffle extension order, so a QUIC JA3 changes with every hello).
    "ja3": ([("tls_client_hello", "ja3"), ("tls_session", "ja3")], "ja3"),
    "ja4": ([("tls_client_hello", "ja4"), ("tls_session", "ja4"), ("quic_client_hello", "ja4_quic")], "ja4"),
    "ja3s": ([("tls_session", "ja3s")], "ja3s"),
    "ja4s": ([("tls_session", "ja4s")], "ja4s"),
    "ja4x": ([("tls_session", "ja4x")], "ja4x"),
    "hassh": ([("ssh_kex", "hassh")], "hassh"),
    "hassh_server": ([("ssh_kex", "hassh_server")], "hassh_server"),
    "ssh_client_banner": ([("ssh_client_banner", "ssh_version")], "ssh_protocol_client"),
    "ja4ssh": ([("ssh_kex", "ja4ssh")], "ja4ssh"),
    "ja4h": ([("http_request_fingerprint", "ja4h")], "ja4h"),
    "ja4t": ([("tcp_syn_fingerprint", "ja4t")], "ja4t"),
    "p0f_syn": ([("tcp_syn_fingerprint", "p0f_signature")], "p0f_syn"),
}
LISTS = {"ja4x", "ja4ssh"}   # comma-joined in events, lists in flows

def values(v):
    if v is None or v == "":
        return []
    return v if isinstance(v, list) else [v]

def main():
    args = sys.argv[1:]
    require, skip = set(), set()
    for flag, target in (("--require", require), ("--except", skip)):
        if flag in args:
            i = args.index(flag)
            target.update(x for x in args[i + 1].split(",") if x)
            del args[i:i + 2]
    sensor_path, sniff_path = args
    ev = [json.loads(l) for l in open(sensor_path) if l.strip()]
    flows = [json.loads(l) for l in open(sniff_path) if l.strip()]
    bad = 0
    for fam, (pairs, flow_field) in FAMILIES.items():
        if fam in skip:
            continue
        s = set()
        for e in ev:
            for (etype, field) in pairs:
                if fam == "ja3" and e["fields"].get("ja4", "").startswith("q"):
                    continue
                if e["event_type"] == etype and field in e["fields"]:
                    v = e["fields"][field]
                    if fam in LISTS:
                        s.add(tuple(x for x in v.split(",") if x))
                    elif v:
                        s.add(v)
        f = set()
        for fl in flows:
            if fam == "ja3" and fl.get("ja4", "").startswith("q"):
                continue
            v = fl.get(flow_field)
            if fam in LISTS:
                if v:
                    f.add(tuple(v))
            else:
                f.update(values(v))
        ok = s == f and (fam not in require or s)
        print(f"{'ok  ' if ok else 'DIFF'} {fam}: sensor {len(s)} value(s), file {len(f)}")
        if not ok:
            bad += 1
            for x in sorted(map(str, s - f)):
                print(f"       only in sensor: {x}")
            for x in sorted(map(str, f - s)):
                print(f"       only in file:   {x}")
    sys.exit(1 if bad else 0)

main()
