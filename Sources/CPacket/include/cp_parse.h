/* cp_parse.h: L7 parsers. Each reads through a bounds-checked cursor and returns
 *   CP_OK        a complete message was parsed (outputs filled, *used = bytes consumed where given),
 *   CP_NEED_MORE the bytes end before the message does (feed more, call again from the start),
 *   CP_INVALID   the bytes cannot be this message (anomaly bits say why).
 * Outputs go to a caller-provided record struct and a cp_out buffer with explicit capacity. */
#ifndef CP_PARSE_H
#define CP_PARSE_H
#include <stdint.h>
#include <stddef.h>
#include "cp_record.h"

typedef enum cp_status { CP_OK = 0, CP_NEED_MORE = 1, CP_INVALID = 2 } cp_status;

/* Output buffer for a record payload: capacity is explicit, overflow is sticky (see cp_out_put). */
typedef struct cp_out { uint8_t *buf; size_t cap, len; int full; } cp_out;

/* TLS handshake framing: msg_type(1) length(3). *msg_len = 4 + length when enough bytes are there. */
cp_status cp_tls_handshake_frame(const uint8_t *p, size_t n, uint8_t *type, size_t *msg_len);

/* ClientHello / ServerHello, given the whole handshake message (header included).
 * dtls: body carries a cookie (ClientHello) and the header is the 12-byte DTLS one. */
cp_status cp_tls_client_hello(const uint8_t *msg, size_t n, int dtls, cp_tls_hello_rec *h,
                              cp_out *out, uint64_t *anom);
cp_status cp_tls_server_hello(const uint8_t *msg, size_t n, int dtls, cp_tls_hello_rec *h,
                              cp_out *out, uint64_t *anom, int *is_hrr);

/* Certificate message (TLS 1.2 layout; tls13 adds request context and per-entry extensions).
 * Calls cb for each certificate's DER bytes, in order. Returns CP_INVALID on framing errors. */
typedef void (*cp_cert_cb)(void *ctx, const uint8_t *der, size_t n);
cp_status cp_tls_certificate(const uint8_t *msg, size_t n, int tls13, cp_cert_cb cb, void *ctx, uint64_t *anom);

/* CompressedCertificate (RFC 8879; zlib and brotli): decompresses and walks it like a TLS 1.3 Certificate. */
cp_status cp_tls_compressed_certificate(const uint8_t *msg, size_t n, cp_cert_cb cb, void *ctx, uint64_t *anom);

/* X.509 DER: issuer / subject attribute-type OIDs and extension OIDs (for JA4X). */
cp_status cp_x509_oids(const uint8_t *der, size_t n, cp_x509_rec *x, cp_out *out, uint64_t *anom);

/* SSH identification line (RFC 4253 §4.2). Skips lines before it that do not start "SSH-".
 * line_off and line_len locate the line without CR LF; *used covers everything through its LF. */
cp_status cp_ssh_banner(const uint8_t *p, size_t n, size_t *line_off, size_t *line_len, size_t *used, uint64_t *anom);

/* First binary packet after the banner, which must be SSH_MSG_KEXINIT (RFC 4253 §6, §7.1). */
cp_status cp_ssh_kexinit(const uint8_t *p, size_t n, cp_kexinit_rec *k, cp_out *out, size_t *used, uint64_t *anom);

/* HTTP/1.x request head (RFC 9112 §3, §5). *body_len: Content-Length or 0; *chunked set for chunked. */
cp_status cp_http_request(const uint8_t *p, size_t n, cp_http_rec *r, cp_out *out, size_t *used,
                          uint64_t *body_len, int *chunked, uint64_t *anom);
/* Quick test used for protocol detection: does p start like an HTTP request line? 1 yes, 0 no, -1 need more. */
int cp_http_looks_like_request(const uint8_t *p, size_t n);

/* QUIC (RFC 9000/9001/9369): decrypt the Initial packets of one datagram and deliver CRYPTO frames.
 * odcid: the client's first Destination Connection ID (keys for both directions derive from it).
 * from_server selects "server in" keys. Returns CP_OK if at least one Initial decrypted. */
typedef void (*cp_crypto_cb)(void *ctx, uint64_t offset, const uint8_t *data, size_t n);
typedef struct cp_quic_info {
    uint32_t version;
    uint8_t  dcid[20], dcid_len;
    uint8_t  n_initial, n_handshake;   /* long-header packet types seen in the datagram */
    uint8_t  first_type;               /* type of the first long-header packet: 0 Initial, 2 Handshake
                                          (v1 numbering), 1 0-RTT, 3 Retry, 0xff none */
} cp_quic_info;
int cp_quic_looks_like_initial(const uint8_t *p, size_t n);
cp_status cp_quic_datagram(const uint8_t *p, size_t n, const uint8_t *odcid, size_t odcid_len, int from_server,
                           cp_crypto_cb cb, void *ctx, cp_quic_info *info, uint64_t *anom);

/* DTLS (RFC 6347/9147) handshake records of one datagram: cb(offset, fragment) per handshake fragment of
 * message `want_type`, with the message length in *msg_len. */
int cp_dtls_looks_like_handshake(const uint8_t *p, size_t n);
cp_status cp_dtls_datagram(const uint8_t *p, size_t n, uint8_t want_type, cp_crypto_cb cb, void *ctx,
                           uint32_t *msg_len, uint64_t *anom);

#endif
