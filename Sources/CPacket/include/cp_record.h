/* cp_record.h: the one fixed-layout record that crosses from the C core into Swift.
 * A record is a 64-byte header followed by a payload inside the same ring slot. Payload layouts are
 * the cp_*_rec structs below; every variable-length field is a cp_span (offset, length) relative to
 * the start of the payload, never a pointer. Swift copies what it needs before releasing the slot. */
#ifndef CP_RECORD_H
#define CP_RECORD_H
#include <stdint.h>
#include <stddef.h>
#include "cp_anomaly.h"

#define CP_RECORD_VERSION 1
#define CP_SLOT_SIZE 8192u
#define CP_PAYLOAD_MAX (CP_SLOT_SIZE - 64u)

typedef enum cp_record_kind {
    CP_REC_TCP_SYN = 1,        /* cp_tcp_syn_rec: first SYN (dir 0) or SYN+ACK (dir 1) of a flow */
    CP_REC_TLS_CLIENT_HELLO,   /* cp_tls_hello_rec */
    CP_REC_TLS_SERVER_HELLO,   /* cp_tls_hello_rec (HelloRetryRequest flagged) */
    CP_REC_TLS_CERT,           /* cp_x509_rec: one certificate of a Certificate message */
    CP_REC_SSH_BANNER,         /* cp_text_rec: identification line without CR LF */
    CP_REC_SSH_KEXINIT,        /* cp_kexinit_rec */
    CP_REC_HTTP_REQUEST,       /* cp_http_rec */
    CP_REC_PKT_TRACE,          /* cp_trace_rec: per-packet sizes/directions/flags (SSH flows) */
    CP_REC_FLOW_END,           /* cp_flow_rec: flow summary and handshake timing, last record of a flow */
    CP_REC_INPUT_END,          /* cp_end_rec: end of input (ok or error with offset) */
} cp_record_kind;

typedef struct cp_span { uint16_t off, len; } cp_span;

typedef struct cp_record {
    uint16_t version;      /* CP_RECORD_VERSION */
    uint16_t kind;         /* cp_record_kind */
    uint32_t flow_id;      /* engine-unique, increasing in flow creation order */
    uint64_t ts_ns;        /* packet time, ns since the epoch */
    uint8_t  src[16];      /* flow orientation = first packet seen; IPv4 in the first 4 bytes */
    uint8_t  dst[16];
    uint16_t sport, dport;
    uint8_t  ip_version;   /* 4 or 6 */
    uint8_t  proto;        /* 6 TCP, 17 UDP */
    uint8_t  dir;          /* 0: same direction as the flow's first packet, 1: reverse */
    uint8_t  flags;        /* CP_RF_* */
    uint32_t payload_len;
    uint32_t anomalies;    /* CP_AN() bits for this record (flow-wide ones in CP_REC_FLOW_END) */
} cp_record;
_Static_assert(sizeof(cp_record) == 64, "cp_record header must stay 64 bytes");
_Static_assert(CP_AN__COUNT <= 32, "record anomaly bits are 32 wide");

#define CP_RF_QUIC 0x01    /* hello came from QUIC CRYPTO frames */
#define CP_RF_DTLS 0x02    /* hello came from DTLS */
#define CP_RF_HRR  0x04    /* ServerHello is a HelloRetryRequest */

/* Raw facts of a SYN or SYN+ACK: everything JA4T/JA4TS and p0f need, nothing computed. */
typedef struct cp_tcp_syn_rec {
    uint16_t window, urg_ptr;
    uint32_t seq, ack;
    uint16_t tcp_flags;        /* 9 bits: NS CWR ECE URG ACK PSH RST SYN FIN */
    uint16_t ip_id;
    uint8_t  ttl, ip_hdr_len;  /* ip_hdr_len: IPv4 header bytes (IHL*4); 40 for IPv6 */
    uint8_t  tos, ipv4_flags;  /* ipv4_flags: bit0 reserved, bit1 DF, bit2 MF */
    uint32_t flow_label;       /* IPv6 only */
    uint16_t payload_len;      /* TCP payload bytes */
    uint8_t  opt_len;          /* TCP option bytes (0..40) */
    uint8_t  tunnelled;        /* innermost headers were inside a tunnel */
    uint8_t  opts[40];
} cp_tcp_syn_rec;

#define CP_HELLO_LIST_MAX 128
typedef struct cp_tls_hello_rec {
    uint16_t record_version, legacy_version;
    uint16_t cipher;           /* ServerHello: chosen suite */
    uint8_t  has_sni, has_alpn, has_supported_versions, has_sig_algs;
    cp_span  ciphers;          /* uint16 native-endian, wire order (ClientHello) */
    cp_span  extensions;       /* uint16 types, wire order */
    cp_span  groups;           /* uint16 (ext 10) */
    cp_span  ec_formats;       /* uint8 (ext 11) */
    cp_span  sig_algs;         /* uint16 (ext 13), wire order */
    cp_span  versions;         /* uint16 (ext 43): client list / server selection */
    cp_span  alpn;             /* first ALPN protocol (client) or selected one (server), bytes */
    cp_span  sni;              /* first host_name, bytes; always the last thing in the payload */
} cp_tls_hello_rec;

#define CP_X509_OID_MAX 48
/* One certificate: OIDs as DER content octets, each prefixed by one length byte. */
typedef struct cp_x509_rec {
    uint16_t index;            /* position in the flow's certificate sequence */
    uint16_t n_issuer, n_subject, n_ext;
    cp_span  issuer, subject, ext;
} cp_x509_rec;

typedef struct cp_text_rec { cp_span text; } cp_text_rec;

typedef struct cp_kexinit_rec {
    cp_span lists[10];         /* kex, hostkey, enc c2s, enc s2c, mac c2s, mac s2c, comp c2s, comp s2c, lang c2s, lang s2c */
    uint8_t first_kex_follows;
    uint8_t _pad[3];
} cp_kexinit_rec;

#define CP_HTTP_HDR_MAX 96
typedef struct cp_http_rec {
    cp_span method, target, version;  /* version text e.g. "HTTP/1.1" */
    uint16_t n_headers;
    uint16_t _pad;
    cp_span  names[CP_HTTP_HDR_MAX];
    cp_span  values[CP_HTTP_HDR_MAX];
} cp_http_rec;

typedef struct cp_trace_ent {
    uint16_t payload_len;
    uint8_t  dir;              /* bit 0: direction (0 = flow's first sender); bit 1 (CP_TRACE_SSH): the
                                  segment completes an SSH PDU or carries encrypted SSH data, the way
                                  the references' dissector (tshark) delimits SSH packets */
    uint8_t  tcp_flags;        /* low 8 flag bits */
} cp_trace_ent;
#define CP_TRACE_SSH 0x02
#define CP_TRACE_MAX ((CP_PAYLOAD_MAX - 8) / sizeof(cp_trace_ent))
typedef struct cp_trace_rec {
    uint32_t count;
    uint32_t _pad;
    cp_trace_ent ent[];        /* count entries */
} cp_trace_rec;

#define CP_RETX_MAX 8
/* Flow summary. Orientation: dir 0 = first packet's sender. client_dir says which side opened it. */
typedef struct cp_flow_rec {
    uint64_t first_ns, last_ns;
    uint64_t packets[2], bytes[2];
    /* TCP handshake: A SYN, B SYN+ACK, C ACK completing it; D first client payload after the
     * handshake, E first server payload after D, F first client payload after E (spec §7). */
    uint64_t t_syn, t_synack, t_ack, t_d, t_e, t_f;
    uint64_t t_synack_retx[CP_RETX_MAX];  /* SYN+ACK retransmissions (after the first) */
    uint64_t t_rst;                       /* first RST after the SYN+ACK */
    /* QUIC: A client Initial, B server Initial, C last server Handshake before D, D client Handshake. */
    uint64_t q_a, q_b, q_c, q_d;
    uint8_t  client_dir;       /* 0 or 1; for TCP the SYN sender, else the first sender */
    uint8_t  syn_seen, synack_seen;
    uint8_t  ttl_syn, ttl_synack, ttl_c, ttl_s;  /* ttl_c/ttl_s: first client/server packet TTL */
    uint8_t  app;              /* CP_APP_* of what the flow carried */
    uint8_t  n_synack_retx;
    uint8_t  quic_ttl_c, quic_ttl_s;
    uint8_t  ended_by;         /* 0 end of input, 1 FIN/RST + linger, 2 idle timeout, 3 evicted */
    uint8_t  _pad[4];
    /* Timing summary (tcp_flow_timing): inter-arrival times over all packets of both directions, and
     * client->server payload segments that start before the highest sequence already seen. */
    uint64_t iat_min_ns, iat_max_ns;
    uint32_t retransmits;
    uint32_t _pad2;
} cp_flow_rec;

enum { CP_APP_NONE = 0, CP_APP_TLS = 1, CP_APP_SSH = 2, CP_APP_HTTP = 4, CP_APP_QUIC = 8, CP_APP_DTLS = 16 };

typedef struct cp_end_rec {
    int32_t  status;           /* 0 ok, else a cp_capture_err */
    uint32_t _pad;
    uint64_t offset;           /* byte offset of the failure in the file */
    char     message[256];
} cp_end_rec;

#endif
