/* tls_server.c: OpenSSL server over memory BIOs (see dc_tls_server.h). */
#include "dc_tls_server.h"
#include "../pem_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct dc_tls_ctx { SSL_CTX *ssl; };
struct dc_tls { SSL *ssl; BIO *in, *out; char alpn[64]; char err[160]; };

/* Generates key + self-signed certificate and writes them to path (temp file, then rename). */
static int generate(const char *path, const char *cn, char *err, int errcap) {
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    int ok = 0;
    if (!key || !x) { dc_pem_error(err, errcap, "key generation failed", NULL); goto done; }
    X509_set_version(x, 2);
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) { dc_pem_error(err, errcap, "RAND_bytes", NULL); goto done; }
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    /* Backdated by a few weeks: a certificate made the minute the service started is a tell. */
    X509_gmtime_adj(X509_getm_notBefore(x), -(long)(30 + (serial[1] % 300)) * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400L);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    char san[300];
    snprintf(san, sizeof san, "DNS:%s", cn);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    if (ext) { X509_add_ext(x, ext, -1); X509_EXTENSION_free(ext); }
    if (X509_sign(x, key, EVP_sha256()) == 0) { dc_pem_error(err, errcap, "X509_sign", NULL); goto done; }
    if (!dc_pem_write(path, key, x, err, errcap)) goto done;
    ok = 1;
done:
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

static int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
    (void)s; (void)arg;
    static const unsigned char h11[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, h11, sizeof h11, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

dc_tls_ctx *dc_tls_ctx_open(const char *pem_path, const char *cn, char *err, int errcap) {
    if (errcap > 0) err[0] = 0;
    if (access(pem_path, R_OK) != 0 && !generate(pem_path, cn, err, errcap)) return NULL;
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) { dc_pem_error(err, errcap, "SSL_CTX_new", NULL); return NULL; }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(c, pem_path) != 1 || SSL_CTX_use_PrivateKey_file(c, pem_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c) != 1) {
        dc_pem_error(err, errcap, "cannot load the decoy certificate", NULL);
        SSL_CTX_free(c);
        return NULL;
    }
    SSL_CTX_set_cipher_list(c, "HIGH:!aNULL:!MD5");
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_alpn_select_cb(c, alpn_select, NULL);
    dc_tls_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) { SSL_CTX_free(c); snprintf(err, (size_t)errcap, "out of memory"); return NULL; }
    ctx->ssl = c;
    return ctx;
}

void dc_tls_ctx_free(dc_tls_ctx *ctx) {
    if (!ctx) return;
    SSL_CTX_free(ctx->ssl);
    free(ctx);
}

dc_tls *dc_tls_new(dc_tls_ctx *ctx) {
    dc_tls *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ssl = SSL_new(ctx->ssl);
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->in || !t->out) {
        SSL_free(t->ssl); BIO_free(t->in); BIO_free(t->out); free(t);
        return NULL;
    }
    BIO_set_mem_eof_return(t->in, -1);
    SSL_set_bio(t->ssl, t->in, t->out);       /* the SSL owns both BIOs now */
    SSL_set_accept_state(t->ssl);
    return t;
}

void dc_tls_free(dc_tls *t) {
    if (!t) return;
    SSL_free(t->ssl);
    free(t);
}

int dc_tls_feed(dc_tls *t, const void *data, size_t n) {
    while (n > 0) {
        int chunk = n > 1 << 30 ? 1 << 30 : (int)n;
        int w = BIO_write(t->in, data, chunk);
        if (w <= 0) return -1;
        data = (const char *)data + w;
        n -= (size_t)w;
    }
    return 0;
}

static int fatal(dc_tls *t, int code) {
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, t->err, sizeof t->err);
    else snprintf(t->err, sizeof t->err, "ssl error %d", code);
    ERR_clear_error();
    return -1;
}

int dc_tls_read(dc_tls *t, void *out, size_t cap) {
    if (!SSL_is_init_finished(t->ssl)) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
            return fatal(t, e);
        }
    }
    int r = SSL_read(t->ssl, out, cap > 1 << 30 ? 1 << 30 : (int)cap);
    if (r > 0) return r;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    if (e == SSL_ERROR_ZERO_RETURN) return -2;
    return fatal(t, e);
}

int dc_tls_write(dc_tls *t, const void *data, size_t n) {
    while (n > 0) {
        int chunk = n > 1 << 20 ? 1 << 20 : (int)n;
        int w = SSL_write(t->ssl, data, chunk);
        if (w <= 0) return fatal(t, SSL_get_error(t->ssl, w));
        data = (const char *)data + w;
        n -= (size_t)w;
    }
    return 0;
}

int dc_tls_drain(dc_tls *t, void *out, size_t cap) {
    if (BIO_ctrl_pending(t->out) == 0) return 0;
    int r = BIO_read(t->out, out, cap > 1 << 30 ? 1 << 30 : (int)cap);
    return r > 0 ? r : 0;
}

void dc_tls_close_notify(dc_tls *t) {
    if (SSL_is_init_finished(t->ssl)) (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
}

int dc_tls_handshake_done(const dc_tls *t) { return SSL_is_init_finished(t->ssl); }
const char *dc_tls_version(const dc_tls *t) { return SSL_get_version(t->ssl); }
const char *dc_tls_cipher(const dc_tls *t) { const char *c = SSL_get_cipher_name(t->ssl); return c ? c : ""; }
const char *dc_tls_sni(const dc_tls *t) { const char *s = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name); return s ? s : ""; }
const char *dc_tls_alpn(dc_tls *t) {
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(t->ssl, &p, &n);
    if (n >= sizeof t->alpn) n = sizeof t->alpn - 1;
    if (p) memcpy(t->alpn, p, n);
    t->alpn[n] = 0;
    return t->alpn;
}
const char *dc_tls_error(const dc_tls *t) { return t->err; }
