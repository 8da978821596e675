/* cp_tls_server.h: a TLS server over memory buffers (OpenSSL), for decoys: the caller moves network bytes
 * in and out, so the same event loop serves TLS and plaintext decoys. No Swift knowledge. */
#ifndef CP_TLS_SERVER_H
#define CP_TLS_SERVER_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cp_tls_ctx cp_tls_ctx;
typedef struct cp_tls cp_tls;

/* A server context whose key and self-signed certificate live in `pem_path` (PEM key + certificate,
 * mode 0600). A missing file is created: RSA-2048, SHA-256, CN and SAN DNS = `common_name`, valid
 * 3650 days (the snakeoil shape Debian's ssl-cert makes). TLS 1.2+, cipher list "HIGH:!aNULL:!MD5"
 * without DH parameters (nginx's defaults), ALPN http/1.1 when offered. NULL with a message on error. */
cp_tls_ctx *cp_tls_ctx_open(const char *pem_path, const char *common_name, char *err, int errcap);
void cp_tls_ctx_free(cp_tls_ctx *ctx);

cp_tls *cp_tls_new(cp_tls_ctx *ctx);
void cp_tls_free(cp_tls *t);

/* Network bytes from the peer. 0, or -1 when the memory BIO refuses them. */
int cp_tls_feed(cp_tls *t, const void *data, size_t n);
/* Decrypted bytes: >0 count, 0 none yet (need more input), -1 fatal (alert queued), -2 peer closed. */
int cp_tls_read(cp_tls *t, void *out, size_t cap);
/* Plaintext to encrypt (after the handshake). 0 or -1. */
int cp_tls_write(cp_tls *t, const void *data, size_t n);
/* Network bytes to send: count copied into out (0 when none). */
int cp_tls_drain(cp_tls *t, void *out, size_t cap);
/* Queues close_notify. */
void cp_tls_close_notify(cp_tls *t);

int cp_tls_handshake_done(const cp_tls *t);
/* Negotiated values after the handshake (static strings or "" / SNI copy owned by t). */
const char *cp_tls_version(const cp_tls *t);
const char *cp_tls_cipher(const cp_tls *t);
const char *cp_tls_sni(const cp_tls *t);
const char *cp_tls_alpn(cp_tls *t);
/* The OpenSSL reason of the last fatal error ("" when none). */
const char *cp_tls_error(const cp_tls *t);

#ifdef __cplusplus
}
#endif
#endif
