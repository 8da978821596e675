/* ssh_kex.c: key-exchange primitives for the SSH decoy (see dc_ssh.h): X25519 (RFC 8731), ECDH on the
 * NIST curves (RFC 5656), finite-field DH over the RFC 3526 MODP groups (RFC 4253 §8, RFC 8268, RFC 4419
 * group exchange), all through OpenSSL. Peer values are checked before use; bad ones return -1. */
#include "dc_ssh.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

int dc_ssh_x25519(const unsigned char peer[32], unsigned char pub[32], unsigned char shared[32]) {
    int rc = -1;
    EVP_PKEY *mine = NULL, *theirs = NULL;
    EVP_PKEY_CTX *g = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL), *d = NULL;
    size_t n = 32;
    if (!g || EVP_PKEY_keygen_init(g) != 1 || EVP_PKEY_keygen(g, &mine) != 1) goto out;
    if (EVP_PKEY_get_raw_public_key(mine, pub, &n) != 1 || n != 32) goto out;
    theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
    if (!theirs) goto out;
    d = EVP_PKEY_CTX_new(mine, NULL);
    n = 32;
    if (!d || EVP_PKEY_derive_init(d) != 1 || EVP_PKEY_derive_set_peer(d, theirs) != 1 || EVP_PKEY_derive(d, shared, &n) != 1 || n != 32) goto out;
    unsigned char zero[32] = {0};
    if (CRYPTO_memcmp(shared, zero, 32) == 0) goto out;      /* low-order point (RFC 8731 §3) */
    rc = 0;
out:
    EVP_PKEY_CTX_free(g);
    EVP_PKEY_CTX_free(d);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(theirs);
    return rc;
}

static const char *curve_name(int bits) {
    return bits == 256 ? "P-256" : bits == 384 ? "P-384" : bits == 521 ? "P-521" : NULL;
}

int dc_ssh_ecdh(int bits, const unsigned char *peer, size_t peer_len, unsigned char *pub, size_t *pub_len,
                unsigned char *shared, size_t *shared_len) {
    const char *curve = curve_name(bits);
    if (!curve) return -1;
    size_t coord = (size_t)(bits + 7) / 8;
    if (peer_len != 1 + 2 * coord || peer[0] != 0x04) return -1;
    int rc = -1;
    EVP_PKEY *mine = NULL, *theirs = NULL;
    EVP_PKEY_CTX *fc = NULL, *d = NULL, *chk = NULL;
    mine = EVP_EC_gen(curve);
    if (!mine) goto out;
    if (EVP_PKEY_get_octet_string_param(mine, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, 1 + 2 * coord, pub_len) != 1) goto out;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curve, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)peer, peer_len),
        OSSL_PARAM_construct_end(),
    };
    fc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!fc || EVP_PKEY_fromdata_init(fc) != 1 || EVP_PKEY_fromdata(fc, &theirs, EVP_PKEY_PUBLIC_KEY, params) != 1) goto out;
    chk = EVP_PKEY_CTX_new(theirs, NULL);
    if (!chk || EVP_PKEY_public_check(chk) != 1) goto out;
    d = EVP_PKEY_CTX_new(mine, NULL);
    *shared_len = coord;
    if (!d || EVP_PKEY_derive_init(d) != 1 || EVP_PKEY_derive_set_peer(d, theirs) != 1 || EVP_PKEY_derive(d, shared, shared_len) != 1) goto out;
    rc = 0;
out:
    EVP_PKEY_CTX_free(fc);
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(d);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(theirs);
    return rc;
}

static BIGNUM *modp(int pbits) {
    switch (pbits) {
    case 2048: return BN_get_rfc3526_prime_2048(NULL);
    case 3072: return BN_get_rfc3526_prime_3072(NULL);
    case 4096: return BN_get_rfc3526_prime_4096(NULL);
    case 6144: return BN_get_rfc3526_prime_6144(NULL);
    case 8192: return BN_get_rfc3526_prime_8192(NULL);
    default: return NULL;
    }
}

int dc_ssh_dh_prime(int pbits, unsigned char *p, size_t cap) {
    BIGNUM *bp = modp(pbits);
    if (!bp || (size_t)BN_num_bytes(bp) > cap) { BN_free(bp); return -1; }
    int n = BN_bn2bin(bp, p);
    BN_free(bp);
    return n;
}

static int dh_with(BIGNUM *p, unsigned long gen, const unsigned char *e, size_t e_len, unsigned char *f, size_t *f_len,
                   unsigned char *k, size_t *k_len);

int dc_ssh_dh(int pbits, const unsigned char *e, size_t e_len, unsigned char *f, size_t *f_len,
              unsigned char *k, size_t *k_len) {
    return dh_with(modp(pbits), 2, e, e_len, f, f_len, k, k_len);
}

int dc_ssh_dh_group(const unsigned char *p, size_t p_len, unsigned g, const unsigned char *e, size_t e_len,
                    unsigned char *f, size_t *f_len, unsigned char *k, size_t *k_len) {
    if (p_len < 128 || p_len > 1024 || g < 2) return -1;
    return dh_with(BN_bin2bn(p, (int)p_len, NULL), g, e, e_len, f, f_len, k, k_len);
}

/* Takes ownership of p. */
static int dh_with(BIGNUM *p, unsigned long gen, const unsigned char *e, size_t e_len, unsigned char *f, size_t *f_len,
                   unsigned char *k, size_t *k_len) {
    int rc = -1;
    BN_CTX *bc = BN_CTX_new();
    BIGNUM *g = BN_new(), *x = BN_new(), *fe = BN_new(), *be = NULL, *kk = BN_new(), *pm1 = NULL;
    if (!bc || !p || !g || !x || !fe || !kk) goto out;
    be = BN_bin2bn(e, (int)e_len, NULL);
    pm1 = BN_dup(p);
    if (!be || !pm1 || BN_sub_word(pm1, 1) != 1) goto out;
    /* 1 < e < p-1 (RFC 4253 §8) */
    if (BN_cmp(be, BN_value_one()) <= 0 || BN_cmp(be, pm1) >= 0) goto out;
    BN_set_word(g, gen);
    /* Private exponent of twice the group's security strength (as OpenSSH: 2 * 256 bits at most here). */
    if (BN_priv_rand_ex(x, 512, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY, 0, bc) != 1) goto out;
    if (BN_mod_exp(fe, g, x, p, bc) != 1 || BN_mod_exp(kk, be, x, p, bc) != 1) goto out;
    *f_len = (size_t)BN_bn2bin(fe, f);
    *k_len = (size_t)BN_bn2bin(kk, k);
    rc = 0;
out:
    BN_clear_free(x);
    BN_free(p); BN_free(g); BN_free(fe); BN_free(be); BN_clear_free(kk); BN_free(pm1);
    BN_CTX_free(bc);
    return rc;
}

/* ---- zlib@openssh.com ---- */
#include <zlib.h>
#include <stdlib.h>

struct dc_ssh_z { z_stream s; int compress; };

dc_ssh_z *dc_ssh_z_new(int compress) {
    dc_ssh_z *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    z->compress = compress;
    int r = compress ? deflateInit(&z->s, 6) : inflateInit(&z->s);
    if (r != Z_OK) { free(z); return NULL; }
    return z;
}

void dc_ssh_z_free(dc_ssh_z *z) {
    if (!z) return;
    if (z->compress) deflateEnd(&z->s); else inflateEnd(&z->s);
    free(z);
}

long dc_ssh_z_run(dc_ssh_z *z, const unsigned char *in, size_t n, unsigned char *out, size_t cap) {
    z->s.next_in = (Bytef *)in;
    z->s.avail_in = (uInt)n;
    z->s.next_out = out;
    z->s.avail_out = (uInt)cap;
    for (;;) {
        int r = z->compress ? deflate(&z->s, Z_PARTIAL_FLUSH) : inflate(&z->s, Z_PARTIAL_FLUSH);
        if (r == Z_BUF_ERROR && z->s.avail_in == 0 && z->s.avail_out > 0) break;   /* all consumed, all flushed */
        if (r != Z_OK) return r == Z_BUF_ERROR ? DC_SSH_TOO_BIG : DC_SSH_CRYPTO;
        if (z->s.avail_out == 0) return DC_SSH_TOO_BIG;
        if (z->s.avail_in == 0 && z->compress) break;
    }
    return (long)(cap - z->s.avail_out);
}
