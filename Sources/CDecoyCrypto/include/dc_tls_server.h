/* dc_tls_server.h: a TLS server over memory buffers (OpenSSL), for decoys: the caller moves network bytes
 * in and out, so the same event loop serves TLS and plaintext decoys. No Swift knowledge. */
#ifndef DC_TLS_SERVER_H
#define DC_TLS_SERVER_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dc_tls_ctx dc_tls_ctx;
typedef struct dc_tls dc_tls;

/* A server context whose key and self-signed certificate live in `pem_path` (PEM key + certificate,
 * mode 0600). A missing file is created: RSA-2048, SHA-256, CN and SAN DNS = `common_name`, valid
 * 3650 days (the snakeoil shape Debian's ssl-cert makes). TLS 1.2+, cipher list "HIGH:!aNULL:!MD5"
 * without DH parameters (nginx's defaults), ALPN http/1.1 when offered. NULL with a message on error. */
dc_tls_ctx *dc_tls_ctx_open(const char *pem_path, const char *common_name, char *err, int errcap);
void dc_tls_ctx_free(dc_tls_ctx *ctx);

dc_tls *dc_tls_new(dc_tls_ctx *ctx);
void dc_tls_free(dc_tls *t);

/* Network bytes from the peer. 0, or -1 when the memory BIO refuses them. */
int dc_tls_feed(dc_tls *t, const void *data, size_t n);
/* Decrypted bytes: >0 count, 0 none yet (need more input), -1 fatal (alert queued), -2 peer closed. */
int dc_tls_read(dc_tls *t, void *out, size_t cap);
/* Plaintext to encrypt (after the handshake). 0 or -1. */
int dc_tls_write(dc_tls *t, const void *data, size_t n);
/* Network bytes to send: count copied into out (0 when none). */
int dc_tls_drain(dc_tls *t, void *out, size_t cap);
/* Queues close_notify. */
void dc_tls_close_notify(dc_tls *t);

int dc_tls_handshake_done(const dc_tls *t);
/* Negotiated values after the handshake (static strings or "" / SNI copy owned by t). */
const char *dc_tls_version(const dc_tls *t);
const char *dc_tls_cipher(const dc_tls *t);
const char *dc_tls_sni(const dc_tls *t);
const char *dc_tls_alpn(dc_tls *t);
/* The OpenSSL reason of the last fatal error ("" when none). */
const char *dc_tls_error(const dc_tls *t);

#ifdef __cplusplus
}
#endif
#endif
