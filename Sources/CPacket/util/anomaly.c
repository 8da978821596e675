/* anomaly.c: stable names for the anomaly catalogue (reported by sniff and carried in events). */
#include "cp_anomaly.h"

static const char *const names[CP_AN__COUNT] = {
    [CP_AN_L2_TRUNCATED] = "l2_truncated",     [CP_AN_VLAN_DEPTH] = "vlan_depth",
    [CP_AN_IP_TRUNCATED] = "ip_truncated",     [CP_AN_IP_BAD_VERSION] = "ip_bad_version",
    [CP_AN_IP_BAD_HLEN] = "ip_bad_hlen",       [CP_AN_IP_BAD_TOTLEN] = "ip_bad_totlen",
    [CP_AN_IP_FRAGMENT] = "ip_fragment",       [CP_AN_IPV6_EXT_BAD] = "ipv6_ext_bad",
    [CP_AN_TCP_BAD_DOFF] = "tcp_bad_doff",     [CP_AN_TCP_OPT_BAD] = "tcp_opt_bad",
    [CP_AN_TCP_FLAGS_ODD] = "tcp_flags_odd",   [CP_AN_UDP_BAD_LEN] = "udp_bad_len",
    [CP_AN_TUNNEL_BAD] = "tunnel_bad",         [CP_AN_TUNNEL_DEPTH] = "tunnel_depth",
    [CP_AN_TCP_GAP] = "tcp_gap",               [CP_AN_STREAM_LIMIT] = "stream_limit",
    [CP_AN_TLS_RECORD_BAD] = "tls_record_bad", [CP_AN_TLS_HELLO_BAD] = "tls_hello_bad",
    [CP_AN_TLS_LIST_CAPPED] = "tls_list_capped", [CP_AN_TLS_CERT_BAD] = "tls_cert_bad",
    [CP_AN_SSH_BANNER_BAD] = "ssh_banner_bad", [CP_AN_SSH_KEXINIT_BAD] = "ssh_kexinit_bad",
    [CP_AN_HTTP_BAD] = "http_bad",             [CP_AN_QUIC_BAD] = "quic_bad",
    [CP_AN_DTLS_BAD] = "dtls_bad",
    [CP_AN_FLOW_EVICTED] = "flow_evicted",     [CP_AN_SSH_VERSION1] = "ssh_version1",
    [CP_AN_NONPRINTABLE] = "nonprintable",
};

const char *cp_anomaly_name(unsigned bit) {
    return bit < CP_AN__COUNT && names[bit] ? names[bit] : "unknown";
}
