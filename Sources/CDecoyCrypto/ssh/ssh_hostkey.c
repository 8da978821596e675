/* ssh_hostkey.c: the decoy's host keys (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa with rsa-sha2-256/512
 * signatures) in the RFC 4253 §6.6 / RFC 5656 §3 / RFC 8709 / RFC 8332 wire formats, kept as PEM
 * private keys (mode 0600, created on first use like ssh-keygen -A). Client public keys are only
 * fingerprinted (the decoy never accepts one), so nothing here verifies a client's signature. */
#include "dc_ssh.h"
#include "../pem_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

enum kt { KT_ED25519, KT_ECDSA256, KT_RSA };
struct dc_ssh_hostkey { enum kt type; EVP_PKEY *pkey; };

/* ---- a bounded SSH wire writer/reader ---- */
typedef struct { unsigned char *p; size_t len, cap; int bad; } wbuf;
static void w_raw(wbuf *w, const void *d, size_t n) {
    if (w->bad || n > w->cap - w->len) { w->bad = 1; return; }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}
static void w_u32(wbuf *w, uint32_t v) { unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v}; w_raw(w, b, 4); }
static void w_str(wbuf *w, const void *d, size_t n) { w_u32(w, (uint32_t)n); w_raw(w, d, n); }
static void w_cstr(wbuf *w, const char *s) { w_str(w, s, strlen(s)); }
/* mpint from big-endian magnitude bytes (leading zeros stripped, 0x00 added when the top bit is set). */
static void w_mpint(wbuf *w, const unsigned char *b, size_t n) {
    while (n > 0 && b[0] == 0) { b++; n--; }
    int pad = n > 0 && (b[0] & 0x80);
    w_u32(w, (uint32_t)(n + (size_t)pad));
    if (pad) { unsigned char z = 0; w_raw(w, &z, 1); }
    w_raw(w, b, n);
}
static void w_bn(wbuf *w, const BIGNUM *bn) {
    unsigned char tmp[1100];
    int n = BN_num_bytes(bn);
    if (n < 0 || (size_t)n > sizeof tmp) { w->bad = 1; return; }
    BN_bn2bin(bn, tmp);
    w_mpint(w, tmp, (size_t)n);
}

dc_ssh_hostkey *dc_ssh_hostkey_open(const char *path, const char *type, char *err, int errcap) {
    enum kt t;
    if (strcmp(type, "ssh-ed25519") == 0) t = KT_ED25519;
    else if (strcmp(type, "ecdsa-sha2-nistp256") == 0) t = KT_ECDSA256;
    else if (strcmp(type, "ssh-rsa") == 0) t = KT_RSA;
    else { snprintf(err, (size_t)errcap, "unknown host key type %s", type); return NULL; }
    EVP_PKEY *k = NULL;
    FILE *f = fopen(path, "r");
    if (f) {
        k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (!k) { dc_pem_error(err, errcap, "cannot read host key", path); return NULL; }
        int id = EVP_PKEY_get_base_id(k);
        if ((t == KT_ED25519 && id != EVP_PKEY_ED25519) || (t == KT_ECDSA256 && id != EVP_PKEY_EC) || (t == KT_RSA && id != EVP_PKEY_RSA)) {
            EVP_PKEY_free(k);
            snprintf(err, (size_t)errcap, "host key %s is not a %s key", path, type);
            return NULL;
        }
    } else if (errno == ENOENT) {
        k = t == KT_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
          : t == KT_ECDSA256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(3072);
        if (!k) { dc_pem_error(err, errcap, "cannot generate host key", path); return NULL; }
        if (!dc_pem_write(path, k, NULL, err, errcap)) { EVP_PKEY_free(k); return NULL; }
    } else {
        snprintf(err, (size_t)errcap, "cannot open host key %s: %s", path, strerror(errno));
        return NULL;
    }
    dc_ssh_hostkey *h = calloc(1, sizeof *h);
    if (!h) { EVP_PKEY_free(k); return NULL; }
    h->type = t;
    h->pkey = k;
    return h;
}

void dc_ssh_hostkey_free(dc_ssh_hostkey *k) {
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

int dc_ssh_hostkey_blob(const dc_ssh_hostkey *k, unsigned char *out, size_t cap) {
    wbuf w = {out, 0, cap, 0};
    switch (k->type) {
    case KT_ED25519: {
        unsigned char pub[32];
        size_t n = 32;
        if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) != 1) return -1;
        w_cstr(&w, "ssh-ed25519");
        w_str(&w, pub, 32);
        break;
    }
    case KT_ECDSA256: {
        unsigned char q[65];
        size_t n = 0;
        if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, q, sizeof q, &n) != 1) return -1;
        w_cstr(&w, "ecdsa-sha2-nistp256");
        w_cstr(&w, "nistp256");
        w_str(&w, q, n);
        break;
    }
    case KT_RSA: {
        BIGNUM *e = NULL, *n = NULL;
        if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1 || EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1) {
            BN_free(e); BN_free(n); return -1;
        }
        w_cstr(&w, "ssh-rsa");
        w_bn(&w, e);
        w_bn(&w, n);
        BN_free(e); BN_free(n);
        break;
    }
    }
    return w.bad ? -1 : (int)w.len;
}

static int digest_sign(EVP_PKEY *k, const EVP_MD *md, const unsigned char *d, size_t n, unsigned char *sig, size_t *len) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestSignInit(c, NULL, md, NULL, k) == 1 && EVP_DigestSign(c, sig, len, d, n) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

int dc_ssh_hostkey_sign(const dc_ssh_hostkey *k, const char *alg, const unsigned char *data, size_t n,
                        unsigned char *out, size_t cap) {
    wbuf w = {out, 0, cap, 0};
    unsigned char sig[1024];
    size_t len = sizeof sig;
    switch (k->type) {
    case KT_ED25519:
        if (strcmp(alg, "ssh-ed25519") != 0 || digest_sign(k->pkey, NULL, data, n, sig, &len) != 0) return -1;
        w_cstr(&w, alg);
        w_str(&w, sig, len);
        break;
    case KT_ECDSA256: {
        if (strcmp(alg, "ecdsa-sha2-nistp256") != 0 || digest_sign(k->pkey, EVP_sha256(), data, n, sig, &len) != 0) return -1;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
        if (!es) return -1;
        unsigned char inner[160];
        wbuf iw = {inner, 0, sizeof inner, 0};
        w_bn(&iw, ECDSA_SIG_get0_r(es));
        w_bn(&iw, ECDSA_SIG_get0_s(es));
        ECDSA_SIG_free(es);
        if (iw.bad) return -1;
        w_cstr(&w, alg);
        w_str(&w, inner, iw.len);
        break;
    }
    case KT_RSA: {
        const EVP_MD *md = strcmp(alg, "rsa-sha2-512") == 0 ? EVP_sha512() : strcmp(alg, "rsa-sha2-256") == 0 ? EVP_sha256() : NULL;
        if (!md || digest_sign(k->pkey, md, data, n, sig, &len) != 0) return -1;
        w_cstr(&w, alg);
        w_str(&w, sig, len);
        break;
    }
    }
    return w.bad ? -1 : (int)w.len;
}
