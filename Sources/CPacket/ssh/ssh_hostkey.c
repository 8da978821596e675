/* ssh_hostkey.c: the decoy's host keys (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa with rsa-sha2-256/512
 * signatures) in the RFC 4253 §6.6 / RFC 5656 §3 / RFC 8709 / RFC 8332 wire formats, kept as PEM
 * private keys (mode 0600, created on first use like ssh-keygen -A), and verification of client
 * publickey signatures in the same formats. */
#include "cp_ssh.h"

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
struct cp_ssh_hostkey { enum kt type; EVP_PKEY *pkey; };

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

typedef struct { const unsigned char *p; size_t len, off; } rbuf;
static int r_str(rbuf *r, const unsigned char **d, size_t *n) {
    if (r->len - r->off < 4) return -1;
    const unsigned char *q = r->p + r->off;
    uint32_t l = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    if (l > r->len - r->off - 4) return -1;
    *d = q + 4;
    *n = l;
    r->off += 4 + l;
    return 0;
}

static void set_err(char *err, int cap, const char *what, const char *path) {
    unsigned long e = ERR_get_error();
    char buf[160] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, (size_t)cap, "%s %s%s%s", what, path, buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

cp_ssh_hostkey *cp_ssh_hostkey_open(const char *path, const char *type, char *err, int errcap) {
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
        if (!k) { set_err(err, errcap, "cannot read host key", path); return NULL; }
        int id = EVP_PKEY_get_base_id(k);
        if ((t == KT_ED25519 && id != EVP_PKEY_ED25519) || (t == KT_ECDSA256 && id != EVP_PKEY_EC) || (t == KT_RSA && id != EVP_PKEY_RSA)) {
            EVP_PKEY_free(k);
            snprintf(err, (size_t)errcap, "host key %s is not a %s key", path, type);
            return NULL;
        }
    } else if (errno == ENOENT) {
        k = t == KT_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
          : t == KT_ECDSA256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(3072);
        if (!k) { set_err(err, errcap, "cannot generate host key", path); return NULL; }
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *o = fd >= 0 ? fdopen(fd, "w") : NULL;
        int ok = o && PEM_write_PrivateKey(o, k, NULL, NULL, 0, NULL, NULL) == 1;
        if (o) { ok = fflush(o) == 0 && fsync(fileno(o)) == 0 && ok; fclose(o); } else if (fd >= 0) close(fd);
        if (!ok || rename(tmp, path) != 0) {
            unlink(tmp);
            EVP_PKEY_free(k);
            set_err(err, errcap, "cannot write host key", path);
            return NULL;
        }
    } else {
        snprintf(err, (size_t)errcap, "cannot open host key %s: %s", path, strerror(errno));
        return NULL;
    }
    cp_ssh_hostkey *h = calloc(1, sizeof *h);
    if (!h) { EVP_PKEY_free(k); return NULL; }
    h->type = t;
    h->pkey = k;
    return h;
}

void cp_ssh_hostkey_free(cp_ssh_hostkey *k) {
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

int cp_ssh_hostkey_blob(const cp_ssh_hostkey *k, unsigned char *out, size_t cap) {
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

int cp_ssh_hostkey_sign(const cp_ssh_hostkey *k, const char *alg, const unsigned char *data, size_t n,
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

/* Verification of a client's publickey signature (RFC 4252 §7). */
int cp_ssh_verify(const unsigned char *key_blob, size_t key_len, const unsigned char *sig_blob, size_t sig_len,
                  const unsigned char *data, size_t n) {
    rbuf kb = {key_blob, key_len, 0}, sb = {sig_blob, sig_len, 0};
    const unsigned char *kt, *st, *sig;
    size_t ktn, stn, sign;
    if (r_str(&kb, &kt, &ktn) != 0 || r_str(&sb, &st, &stn) != 0 || r_str(&sb, &sig, &sign) != 0) return 0;
    EVP_PKEY *pk = NULL;
    const EVP_MD *md = NULL;
    unsigned char der[200];
    const unsigned char *vsig = sig;
    size_t vlen = sign;
    int rc = 0;
    if (ktn == 11 && memcmp(kt, "ssh-ed25519", 11) == 0) {
        const unsigned char *q; size_t qn;
        if (stn != 11 || memcmp(st, "ssh-ed25519", 11) != 0 || r_str(&kb, &q, &qn) != 0 || qn != 32) return 0;
        pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, q, 32);
    } else if (ktn == 7 && memcmp(kt, "ssh-rsa", 7) == 0) {
        const unsigned char *e, *m; size_t en, mn;
        if (stn == 12 && memcmp(st, "rsa-sha2-256", 12) == 0) md = EVP_sha256();
        else if (stn == 12 && memcmp(st, "rsa-sha2-512", 12) == 0) md = EVP_sha512();
        else return -1;
        if (r_str(&kb, &e, &en) != 0 || r_str(&kb, &m, &mn) != 0 || mn > 2048) return 0;
        BIGNUM *be = BN_bin2bn(e, (int)en, NULL), *bm = BN_bin2bn(m, (int)mn, NULL);
        OSSL_PARAM_BLD *b = NULL;
        EVP_PKEY_CTX *fc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        OSSL_PARAM params[3];
        unsigned char nbuf[2100], ebuf[2100];
        /* native-endian buffers for OSSL_PARAM_construct_BN */
        int nl = bm ? BN_bn2nativepad(bm, nbuf, BN_num_bytes(bm)) : -1;
        int el = be ? BN_bn2nativepad(be, ebuf, BN_num_bytes(be)) : -1;
        (void)b;
        if (nl > 0 && el > 0 && fc && EVP_PKEY_fromdata_init(fc) == 1) {
            params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N, nbuf, (size_t)nl);
            params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_E, ebuf, (size_t)el);
            params[2] = OSSL_PARAM_construct_end();
            if (EVP_PKEY_fromdata(fc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) pk = NULL;
        }
        EVP_PKEY_CTX_free(fc);
        BN_free(be); BN_free(bm);
    } else if (ktn == 19 && memcmp(kt, "ecdsa-sha2-nistp256", 19) == 0) {
        const unsigned char *curve, *q, *r, *s; size_t cn, qn, rn, sn;
        if (stn != 19 || memcmp(st, kt, 19) != 0) return 0;
        if (r_str(&kb, &curve, &cn) != 0 || r_str(&kb, &q, &qn) != 0) return 0;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"P-256", 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)q, qn),
            OSSL_PARAM_construct_end(),
        };
        EVP_PKEY_CTX *fc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        if (!fc || EVP_PKEY_fromdata_init(fc) != 1 || EVP_PKEY_fromdata(fc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) pk = NULL;
        EVP_PKEY_CTX_free(fc);
        rbuf ib = {sig, sign, 0};
        if (!pk || r_str(&ib, &r, &rn) != 0 || r_str(&ib, &s, &sn) != 0) { EVP_PKEY_free(pk); return 0; }
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *br = BN_bin2bn(r, (int)rn, NULL), *bs = BN_bin2bn(s, (int)sn, NULL);
        if (!es || !br || !bs || ECDSA_SIG_set0(es, br, bs) != 1) { ECDSA_SIG_free(es); BN_free(br); BN_free(bs); EVP_PKEY_free(pk); return 0; }
        unsigned char *dp = der;
        int dl = i2d_ECDSA_SIG(es, NULL);
        if (dl <= 0 || (size_t)dl > sizeof der) { ECDSA_SIG_free(es); EVP_PKEY_free(pk); return 0; }
        i2d_ECDSA_SIG(es, &dp);
        ECDSA_SIG_free(es);
        vsig = der;
        vlen = (size_t)dl;
        md = EVP_sha256();
    } else {
        return -1;
    }
    if (!pk) return 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c && EVP_DigestVerifyInit(c, NULL, md, NULL, pk) == 1) rc = EVP_DigestVerify(c, vsig, vlen, data, n) == 1;
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(pk);
    return rc;
}
