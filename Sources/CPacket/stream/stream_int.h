/* stream_int.h: per-direction stream state and collection (TCP reassembly, bounded buffers, offset
 * reassembly, SSH PDU framing, TLS 1.3 handshake decryption). Knows nothing of the engine: bytes leave
 * through the caller's cp_stream_sink, and the engine counts what the return values report. */
#ifndef CP_STREAM_INT_H
#define CP_STREAM_INT_H
#include "cp_decode.h"
#include <stddef.h>
#include <stdint.h>

/* Growable byte buffer with a hard cap. */
typedef struct cp_buf { uint8_t *p; uint32_t len, cap; } cp_buf;
int cp_buf_append(cp_buf *b, const uint8_t *d, size_t n, uint32_t hard_cap);
void cp_buf_consume(cp_buf *b, size_t n);
void cp_buf_free(cp_buf *b);

/* Offset-addressed reassembly (QUIC CRYPTO frames, DTLS fragments). */
#define CP_REASM_CAP 16384u
typedef struct cp_reasm { uint8_t data[CP_REASM_CAP]; uint8_t have[CP_REASM_CAP / 8]; uint32_t contiguous; } cp_reasm;
void cp_reasm_put(cp_reasm *r, uint64_t off, const uint8_t *d, size_t n);

/* Out-of-order TCP segments held until the gap before them fills. */
#define CP_OOO_MAX 8
#define CP_OOO_BYTES 32768u
typedef struct cp_seg { uint32_t seq, len; uint8_t *data; } cp_seg;

/* TLS 1.3 record protection for reading a server's handshake flight (tls13_decrypt.c). */
typedef struct cp_tls13 { uint8_t key[32], iv[12]; uint8_t key_len; uint16_t suite; uint64_t seq; } cp_tls13;
cp_tls13 *cp_tls13_new(uint16_t suite, const uint8_t *secret, size_t secret_len);
long cp_tls13_open(cp_tls13 *t, const uint8_t *rec, size_t n, uint8_t *out, size_t cap, uint8_t *type);

typedef struct cp_dir {
    uint32_t next_seq;
    uint8_t  seq_init, done, app, stage;   /* app: index into the TCP protocol registry + 1, 0 = detecting */
    uint8_t  resyncs, ccs_seen, n_hello, n_pkts_udp;
    uint32_t delivered;
    uint64_t skip;
    cp_buf   buf;                  /* in-order bytes not yet consumed by the parser */
    cp_buf   hs;                   /* TLS handshake bytes joined across records */
    cp_seg   ooo[CP_OOO_MAX];
    uint8_t  n_ooo;
    uint32_t ooo_bytes;
    cp_reasm *crypto;
    uint32_t crypto_msg_len;       /* DTLS: message length from the fragment header */
    cp_tls13 *dec;                 /* server TLS 1.3 handshake keys, when the capture carried them */
} cp_dir;

/* SSH PDU framing of one direction, for deciding which segments are "SSH packets" (JA4SSH). */
typedef struct cp_sshframe {
    uint32_t next_seq;
    uint32_t need;                 /* bytes left in the current PDU; 0 at a boundary */
    uint32_t pdu_start;            /* offset of the current PDU in this segment, UINT32_MAX if earlier */
    uint8_t  seq_init, phase;      /* SF_* */
    uint8_t  hdr[6], hdr_len;      /* PDU header bytes gathered so far (length + padding + code) */
    uint8_t  line[8], line_len;    /* first bytes of the identification line */
} cp_sshframe;
enum { SF_BANNER = 0, SF_V2 = 1, SF_V1 = 2, SF_OPAQUE = 3 };

/* Where a direction's in-order bytes go: `deliver` gets them in sequence order, `gap` is told when a hole
 * was given up on (the parser restarts). `ctx` is the caller's (the engine passes its flow). */
typedef struct cp_stream_sink {
    void (*deliver)(void *ctx, int dir, const uint8_t *d, uint32_t n);
    void (*gap)(void *ctx, int dir);
    void *ctx;
} cp_stream_sink;

/* Adds one segment of direction `dir`. Returns 1 when a gap was declared lost (the caller counts the
 * tcp_gap anomaly), else 0. */
int cp_tcp_stream_add(cp_dir *s, int dir, uint32_t seq, const uint8_t *d, uint32_t n, const cp_stream_sink *sink);
void cp_dir_free(cp_dir *d);

/* SSH PDU framing of one segment (JA4SSH): 1 when the segment carries SSH packets as the references count them. */
int cp_ssh_segment(cp_sshframe *s, const cp_pkt *p);

#endif
