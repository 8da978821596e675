/* cp_decode.h: L2-L4 decode into one packet view. Tunnels (GRE, ERSPAN I/II/III, VXLAN, Geneve,
 * IP-in-IP, 6in4) are unwrapped and the view describes the innermost IP and transport headers. */
#ifndef CP_DECODE_H
#define CP_DECODE_H
#include <stdint.h>
#include <stddef.h>

typedef struct cp_pkt {
    uint64_t ts_ns;
    uint64_t anomalies;
    uint8_t  ip_version;       /* 0 if no IP header was decoded */
    uint8_t  proto;            /* innermost L4 protocol number */
    uint8_t  ttl, tos;
    uint8_t  outer_ttl;        /* TTL / hop limit of the outermost IP header (JA4L's references use it) */
    uint8_t  src[16], dst[16];
    uint8_t  ip_hdr_len;       /* IPv4 IHL*4, or 40 for IPv6 */
    uint8_t  ipv4_flags;       /* bit0 reserved, bit1 DF, bit2 MF */
    uint16_t ip_id;
    uint32_t flow_label;
    uint8_t  fragment;         /* non-first fragment: no L4 header */
    uint8_t  is_icmp;          /* ICMP/ICMPv6 anywhere: never fingerprinted */
    uint8_t  tunnel_depth;
    uint8_t  has_l4;           /* TCP/UDP header decoded */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t tcp_flags, window, urg_ptr;
    uint8_t  tcp_opt_len;
    const uint8_t *tcp_opts;
    const uint8_t *payload;
    uint32_t payload_len;
} cp_pkt;

/* Returns 1 when the packet has an IP header we can use, 0 otherwise (not IP, or truncated). */
int cp_decode(const uint8_t *data, uint32_t caplen, uint32_t linktype, cp_pkt *out);

#define CP_TH_FIN 0x001
#define CP_TH_SYN 0x002
#define CP_TH_RST 0x004
#define CP_TH_PSH 0x008
#define CP_TH_ACK 0x010
#define CP_TH_URG 0x020
#define CP_TH_ECE 0x040
#define CP_TH_CWR 0x080
#define CP_TH_NS  0x100

#endif
