/* cp_anomaly.h: the one catalogue of anomaly bits. Malformed traffic is evidence in a honeypot:
 * decoders and parsers set these bits, records carry them to Swift, and sniff reports them by name.
 * Add new kinds at the end; names come from cp_anomaly_name() (util/anomaly.c). */
#ifndef CP_ANOMALY_H
#define CP_ANOMALY_H
#include <stdint.h>

typedef enum cp_anomaly_bit {
    CP_AN_L2_TRUNCATED = 0,     /* link header shorter than its fixed part */
    CP_AN_VLAN_DEPTH,           /* more than 4 stacked VLAN tags */
    CP_AN_IP_TRUNCATED,         /* captured bytes end inside the IP header */
    CP_AN_IP_BAD_VERSION,       /* version nibble disagrees with the link's ethertype */
    CP_AN_IP_BAD_HLEN,          /* IPv4 IHL < 5 or beyond the packet */
    CP_AN_IP_BAD_TOTLEN,        /* IP total/payload length beyond captured bytes or below header */
    CP_AN_IP_FRAGMENT,          /* IPv4/IPv6 fragment: flagged, not reassembled */
    CP_AN_IPV6_EXT_BAD,         /* IPv6 extension header chain truncated or too long */
    CP_AN_TCP_BAD_DOFF,         /* TCP data offset < 5 or beyond the segment */
    CP_AN_TCP_OPT_BAD,          /* option length 0/1, or option runs past the header */
    CP_AN_TCP_FLAGS_ODD,        /* SYN+FIN, SYN+RST, NULL or XMAS flag combinations */
    CP_AN_UDP_BAD_LEN,          /* UDP length field disagrees with the IP payload */
    CP_AN_TUNNEL_BAD,           /* GRE/ERSPAN/VXLAN/Geneve header malformed */
    CP_AN_TUNNEL_DEPTH,         /* more than 8 nested encapsulations */
    CP_AN_TCP_GAP,              /* out-of-order buffer overflowed: bytes lost to the L7 parsers */
    CP_AN_STREAM_LIMIT,         /* per-direction byte budget reached before parsing finished */
    CP_AN_TLS_RECORD_BAD,       /* TLS record header invalid (length > 2^14+2048, bad type) */
    CP_AN_TLS_HELLO_BAD,        /* ClientHello/ServerHello internally inconsistent */
    CP_AN_TLS_LIST_CAPPED,      /* a hello list had more entries than we keep */
    CP_AN_TLS_CERT_BAD,         /* Certificate message or DER inside it malformed */
    CP_AN_SSH_BANNER_BAD,       /* identification line too long, control bytes, no SSH- line */
    CP_AN_SSH_KEXINIT_BAD,      /* binary packet or name-list framing invalid */
    CP_AN_HTTP_BAD,             /* request line or header block malformed or oversize */
    CP_AN_QUIC_BAD,             /* QUIC long header malformed, or Initial fails to decrypt */
    CP_AN_DTLS_BAD,             /* DTLS record/handshake framing invalid */
    CP_AN_FLOW_EVICTED,         /* flow table full: least recently used flow evicted */
    CP_AN_SSH_VERSION1,         /* peer speaks SSH protocol 1.x */
    CP_AN_NONPRINTABLE,         /* non-printable bytes where text was expected (SNI, headers) */
    CP_AN__COUNT
} cp_anomaly_bit;

#define CP_AN(bit) ((uint64_t)1 << (bit))

const char *cp_anomaly_name(unsigned bit);

#endif
