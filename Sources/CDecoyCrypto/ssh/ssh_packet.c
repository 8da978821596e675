/* ssh_packet.c: SSH binary packet protection (RFC 4253 §6), one direction per dc_ssh_cipher.
 *
 *   uint32 packet_length; byte padding_length; byte payload[n1]; byte padding[n2]; byte mac[m]
 *
 * Modes, as OpenSSH implements them:
 *   - none (before the first NEWKEYS): block 8, zero padding, no MAC.
 *   - aes{128,192,256}-ctr (RFC 4344) with hmac-sha1 / hmac-sha2-{256,512} / umac-{64,128}@openssh.com:
 *     MAC over seq || plaintext packet (encrypt-and-MAC); the -etm@openssh.com variants leave
 *     packet_length in clear and MAC seq || length || ciphertext (UMAC: seq is the 8-byte nonce instead).
 *   - aes{128,256}-gcm@openssh.com (RFC 5647): length is AAD, 12-byte IV = fixed(4) || counter(8) that
 *     increments per packet, 16-byte tag.
 *   - chacha20-poly1305@openssh.com (PROTOCOL.chacha20poly1305): K_2 = key[0..32) encrypts the payload
 *     (block counter 1), K_1 = key[32..64) the length, nonce = seq (64-bit BE), Poly1305 key = K_2 block 0.
 * Padding: at least 4 bytes, total a multiple of max(8, block), the length field excluded for etm/AEAD. */
#include "dc_ssh.h"

#include <string.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

enum mode { M_CTR, M_GCM, M_CHACHA };
enum mac_kind { MAC_NONE, MAC_HMAC, MAC_UMAC };

struct dc_ssh_cipher {
    enum mode mode;
    int encrypt;
    int block;
    int key_len;
    /* CTR: one stream context. GCM: context + IV. ChaCha: main/header keys. */
    EVP_CIPHER_CTX *ctx;
    EVP_CIPHER_CTX *hdr;
    unsigned char key[64];
    unsigned char iv[12];
    /* MAC (CTR only) */
    enum mac_kind mac;
    int etm;
    int mac_len;
    EVP_MAC_CTX *hmac;
    dc_umac *umac;
    /* open() state between NEED_MORE calls (CTR without etm: the first block is already decrypted). */
    int have_first;
    unsigned char first[16];
};

struct mac_info { const char *name; enum mac_kind kind; const char *digest; int key_len, mac_len, etm; };
static const struct mac_info macs[] = {
    {"hmac-sha1", MAC_HMAC, "SHA1", 20, 20, 0},
    {"hmac-sha2-256", MAC_HMAC, "SHA256", 32, 32, 0},
    {"hmac-sha2-512", MAC_HMAC, "SHA512", 64, 64, 0},
    {"umac-64@openssh.com", MAC_UMAC, NULL, 16, 8, 0},
    {"umac-128@openssh.com", MAC_UMAC, NULL, 16, 16, 0},
    {"hmac-sha1-etm@openssh.com", MAC_HMAC, "SHA1", 20, 20, 1},
    {"hmac-sha2-256-etm@openssh.com", MAC_HMAC, "SHA256", 32, 32, 1},
    {"hmac-sha2-512-etm@openssh.com", MAC_HMAC, "SHA512", 64, 64, 1},
    {"umac-64-etm@openssh.com", MAC_UMAC, NULL, 16, 8, 1},
    {"umac-128-etm@openssh.com", MAC_UMAC, NULL, 16, 16, 1},
};

struct enc_info { const char *name; enum mode mode; int key_len, iv_len, block; };
static const struct enc_info encs[] = {
    {"aes128-ctr", M_CTR, 16, 16, 16},
    {"aes192-ctr", M_CTR, 24, 16, 16},
    {"aes256-ctr", M_CTR, 32, 16, 16},
    {"aes128-gcm@openssh.com", M_GCM, 16, 12, 16},
    {"aes256-gcm@openssh.com", M_GCM, 32, 12, 16},
    {"chacha20-poly1305@openssh.com", M_CHACHA, 64, 0, 8},
};

static const struct enc_info *find_enc(const char *n) {
    for (size_t i = 0; i < sizeof encs / sizeof encs[0]; i++) if (strcmp(encs[i].name, n) == 0) return &encs[i];
    return NULL;
}
static const struct mac_info *find_mac(const char *n) {
    if (!n) return NULL;
    for (size_t i = 0; i < sizeof macs / sizeof macs[0]; i++) if (strcmp(macs[i].name, n) == 0) return &macs[i];
    return NULL;
}

int dc_ssh_digest(int alg, const void *data, size_t n, unsigned char *out) {
    const EVP_MD *md = alg == 1 ? EVP_sha1() : alg == 256 ? EVP_sha256() : alg == 384 ? EVP_sha384()
                     : alg == 512 ? EVP_sha512() : NULL;
    unsigned int len = 0;
    if (!md || EVP_Digest(data, n, out, &len, md, NULL) != 1) return -1;
    return (int)len;
}

int dc_ssh_cipher_info(const char *enc, const char *mac, int *key_len, int *iv_len, int *mac_key_len, int *aead) {
    const struct enc_info *e = find_enc(enc);
    if (!e) return -1;
    *key_len = e->key_len;
    *iv_len = e->iv_len;
    *aead = e->mode != M_CTR;
    *mac_key_len = 0;
    if (e->mode == M_CTR) {
        const struct mac_info *m = find_mac(mac);
        if (!m) return -1;
        *mac_key_len = m->key_len;
    }
    return 0;
}

void dc_ssh_cipher_free(dc_ssh_cipher *c) {
    if (!c) return;
    EVP_CIPHER_CTX_free(c->ctx);
    EVP_CIPHER_CTX_free(c->hdr);
    EVP_MAC_CTX_free(c->hmac);
    dc_umac_free(c->umac);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

dc_ssh_cipher *dc_ssh_cipher_new(const char *enc, const char *mac, int encrypt,
                                 const unsigned char *key, const unsigned char *iv, const unsigned char *mac_key) {
    const struct enc_info *e = find_enc(enc);
    if (!e) return NULL;
    dc_ssh_cipher *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->mode = e->mode;
    c->encrypt = encrypt;
    c->block = e->block;
    c->key_len = e->key_len;
    memcpy(c->key, key, (size_t)e->key_len);
    c->ctx = EVP_CIPHER_CTX_new();
    if (!c->ctx) goto fail;
    switch (e->mode) {
    case M_CTR: {
        const EVP_CIPHER *ciph = e->key_len == 16 ? EVP_aes_128_ctr() : e->key_len == 24 ? EVP_aes_192_ctr() : EVP_aes_256_ctr();
        if (EVP_CipherInit_ex(c->ctx, ciph, NULL, key, iv, encrypt) != 1) goto fail;
        const struct mac_info *m = find_mac(mac);
        if (!m) goto fail;
        c->mac = m->kind;
        c->etm = m->etm;
        c->mac_len = m->mac_len;
        if (m->kind == MAC_HMAC) {
            EVP_MAC *hm = EVP_MAC_fetch(NULL, "HMAC", NULL);
            if (!hm) goto fail;
            c->hmac = EVP_MAC_CTX_new(hm);
            EVP_MAC_free(hm);
            OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)m->digest, 0), OSSL_PARAM_construct_end()};
            if (!c->hmac || EVP_MAC_init(c->hmac, mac_key, (size_t)m->key_len, p) != 1) goto fail;
        } else {
            c->umac = dc_umac_new(mac_key, m->mac_len);
            if (!c->umac) goto fail;
        }
        break;
    }
    case M_GCM: {
        const EVP_CIPHER *ciph = e->key_len == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
        memcpy(c->iv, iv, 12);
        if (EVP_CipherInit_ex(c->ctx, ciph, NULL, NULL, NULL, encrypt) != 1) goto fail;
        if (EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1) goto fail;
        if (EVP_CipherInit_ex(c->ctx, NULL, NULL, key, NULL, encrypt) != 1) goto fail;
        c->mac_len = 16;
        break;
    }
    case M_CHACHA:
        c->hdr = EVP_CIPHER_CTX_new();
        if (!c->hdr) goto fail;
        c->mac_len = 16;
        break;
    }
    return c;
fail:
    dc_ssh_cipher_free(c);
    return NULL;
}

size_t dc_ssh_seal_bound(size_t n) { return n + 4 + 1 + 255 + 64; }

static void put32(unsigned char *p, uint32_t v) { p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v; }
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* MAC of one packet (CTR modes): HMAC(seq || data), or UMAC(data, nonce = seq as 64-bit BE). */
static int mac_compute(dc_ssh_cipher *c, uint32_t seq, const unsigned char *data, size_t n, unsigned char *out) {
    if (c->mac == MAC_UMAC) {
        unsigned char nonce[8] = {0, 0, 0, 0};
        put32(nonce + 4, seq);
        return dc_umac_tag(c->umac, data, n, nonce, out);
    }
    unsigned char s[4];
    put32(s, seq);
    unsigned char full[64];
    size_t len = 0;
    if (EVP_MAC_init(c->hmac, NULL, 0, NULL) != 1 || EVP_MAC_update(c->hmac, s, 4) != 1 ||
        EVP_MAC_update(c->hmac, data, n) != 1 || EVP_MAC_final(c->hmac, full, &len, sizeof full) != 1) return -1;
    memcpy(out, full, (size_t)c->mac_len);
    return 0;
}

/* ChaCha20 (DJB's 64-bit nonce layout through OpenSSL's 16-byte IV: counter LE || nonce). */
static int chacha(EVP_CIPHER_CTX *ctx, const unsigned char *key, uint32_t seq, uint64_t counter,
                  const unsigned char *in, unsigned char *out, size_t n) {
    unsigned char iv[16];
    for (int i = 0; i < 8; i++) iv[i] = (unsigned char)(counter >> (8 * i));
    memset(iv + 8, 0, 4);
    put32(iv + 12, seq);
    int outl = 0;
    if (EVP_CipherInit_ex(ctx, EVP_chacha20(), NULL, key, iv, 1) != 1) return -1;
    if (n && EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1) return -1;
    return 0;
}

static int poly1305(const unsigned char key[32], const unsigned char *data, size_t n, unsigned char tag[16]) {
    EVP_MAC *m = EVP_MAC_fetch(NULL, "POLY1305", NULL);
    if (!m) return -1;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(m);
    EVP_MAC_free(m);
    size_t len = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, 32, NULL) == 1 && EVP_MAC_update(ctx, data, n) == 1 &&
             EVP_MAC_final(ctx, tag, &len, 16) == 1;
    EVP_MAC_CTX_free(ctx);
    return ok ? 0 : -1;
}

static void gcm_next_iv(dc_ssh_cipher *c) {
    for (int i = 11; i >= 4; i--) if (++c->iv[i] != 0) break;
}

long dc_ssh_seal(dc_ssh_cipher *c, uint32_t seq, const unsigned char *payload, size_t n, unsigned char *out, size_t cap) {
    if (n > DC_SSH_MAX_PACKET - 300) return DC_SSH_TOO_BIG;
    int block = c ? c->block : 8;
    int excl = c && (c->mode != M_CTR || c->etm);          /* length field outside the padded span */
    size_t base = (excl ? 0 : 4) + 1 + n;
    size_t pad = (size_t)block - base % (size_t)block;
    if (pad < 4) pad += (size_t)block;
    size_t plen = 1 + n + pad;
    size_t tag = c ? (size_t)c->mac_len : 0;
    size_t total = 4 + plen + tag;
    if (total > cap) return DC_SSH_TOO_BIG;
    put32(out, (uint32_t)plen);
    out[4] = (unsigned char)pad;
    memcpy(out + 5, payload, n);
    if (c) { if (dc_random_bytes(out + 5 + n, pad) != 0) return DC_SSH_CRYPTO; }
    else memset(out + 5 + n, 0, pad);
    if (!c) return (long)total;

    int outl = 0;
    switch (c->mode) {
    case M_CTR:
        if (c->etm) {
            if (EVP_CipherUpdate(c->ctx, out + 4, &outl, out + 4, (int)plen) != 1) return DC_SSH_CRYPTO;
            if (mac_compute(c, seq, out, 4 + plen, out + 4 + plen) != 0) return DC_SSH_CRYPTO;
        } else {
            if (mac_compute(c, seq, out, 4 + plen, out + 4 + plen) != 0) return DC_SSH_CRYPTO;
            if (EVP_CipherUpdate(c->ctx, out, &outl, out, (int)(4 + plen)) != 1) return DC_SSH_CRYPTO;
        }
        break;
    case M_GCM:
        if (EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, c->iv, 1) != 1 ||
            EVP_CipherUpdate(c->ctx, NULL, &outl, out, 4) != 1 ||
            EVP_CipherUpdate(c->ctx, out + 4, &outl, out + 4, (int)plen) != 1 ||
            EVP_CipherFinal_ex(c->ctx, out + 4 + plen, &outl) != 1 ||
            EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 4 + plen) != 1) return DC_SSH_CRYPTO;
        gcm_next_iv(c);
        break;
    case M_CHACHA: {
        unsigned char polykey[32] = {0};
        if (chacha(c->ctx, c->key, seq, 0, polykey, polykey, 32) != 0) return DC_SSH_CRYPTO;
        if (chacha(c->hdr, c->key + 32, seq, 0, out, out, 4) != 0) return DC_SSH_CRYPTO;
        if (chacha(c->ctx, c->key, seq, 1, out + 4, out + 4, plen) != 0) return DC_SSH_CRYPTO;
        if (poly1305(polykey, out, 4 + plen, out + 4 + plen) != 0) return DC_SSH_CRYPTO;
        OPENSSL_cleanse(polykey, sizeof polykey);
        break;
    }
    }
    return (long)total;
}

/* Checks packet_length against the mode's rules. */
static int check_len(uint32_t plen, int block, int excl) {
    if (plen < 5 || plen > DC_SSH_MAX_PACKET) return DC_SSH_BAD_LENGTH;
    if (((excl ? 0 : 4) + plen) % (uint32_t)block != 0) return DC_SSH_BAD_LENGTH;
    return DC_SSH_OK;
}

/* padding_length byte at p[0] of a plen-byte body: the payload length, or an error. */
static int payload_of(const unsigned char *body, uint32_t plen, size_t *payload_len) {
    unsigned pad = body[0];
    if (pad < 4 || pad + 1 > plen) return DC_SSH_BAD_PADDING;
    *payload_len = plen - 1 - pad;
    return DC_SSH_OK;
}

int dc_ssh_open(dc_ssh_cipher *c, uint32_t seq, const unsigned char *in, size_t avail,
                unsigned char *out, size_t cap, size_t *consumed, size_t *payload_len) {
/* out too small for this packet: say how much it needs (state is kept, so the call can be repeated). */
#define NEED_ROOM(n) do { if ((size_t)(n) > cap) { *payload_len = (size_t)(n); return DC_SSH_TOO_BIG; } } while (0)
    if (!c) {
        if (avail < 4) return DC_SSH_NEED_MORE;
        uint32_t plen = get32(in);
        int r = check_len(plen, 8, 0);
        if (r) return r;
        if (avail < 4 + (size_t)plen) return DC_SSH_NEED_MORE;
        NEED_ROOM(plen);
        if ((r = payload_of(in + 4, plen, payload_len))) return r;
        memcpy(out, in + 5, *payload_len);
        *consumed = 4 + plen;
        return DC_SSH_OK;
    }
    int outl = 0;
    switch (c->mode) {
    case M_CTR: {
        uint32_t plen;
        if (c->etm) {
            if (avail < 4) return DC_SSH_NEED_MORE;
            plen = get32(in);
            int r = check_len(plen, c->block, 1);
            if (r) return r;
            size_t total = 4 + (size_t)plen + (size_t)c->mac_len;
            if (avail < total) return DC_SSH_NEED_MORE;
            NEED_ROOM(plen);
            unsigned char tag[64];
            if (mac_compute(c, seq, in, 4 + plen, tag) != 0) return DC_SSH_CRYPTO;
            if (CRYPTO_memcmp(tag, in + 4 + plen, (size_t)c->mac_len) != 0) return DC_SSH_BAD_MAC;
            /* out holds the plaintext body [pad][payload][padding] */
            if (EVP_CipherUpdate(c->ctx, out, &outl, in + 4, (int)plen) != 1) return DC_SSH_CRYPTO;
            if ((r = payload_of(out, plen, payload_len))) return r;
            memmove(out, out + 1, *payload_len);
            *consumed = total;
            return DC_SSH_OK;
        }
        if (!c->have_first) {
            if (avail < 16) return DC_SSH_NEED_MORE;
            if (EVP_CipherUpdate(c->ctx, c->first, &outl, in, 16) != 1) return DC_SSH_CRYPTO;
            c->have_first = 1;
        }
        plen = get32(c->first);
        int r = check_len(plen, c->block, 0);
        if (r) return r;
        size_t total = 4 + (size_t)plen + (size_t)c->mac_len;
        if (avail < total) return DC_SSH_NEED_MORE;
        NEED_ROOM(4 + (size_t)plen);
        /* out = whole plaintext packet (length included) for the MAC, then the payload is moved down. */
        memcpy(out, c->first, 16);
        if (plen + 4 > 16 && EVP_CipherUpdate(c->ctx, out + 16, &outl, in + 16, (int)(plen + 4 - 16)) != 1) return DC_SSH_CRYPTO;
        c->have_first = 0;
        unsigned char tag[64];
        if (mac_compute(c, seq, out, 4 + plen, tag) != 0) return DC_SSH_CRYPTO;
        if (CRYPTO_memcmp(tag, in + 4 + plen, (size_t)c->mac_len) != 0) return DC_SSH_BAD_MAC;
        if ((r = payload_of(out + 4, plen, payload_len))) return r;
        memmove(out, out + 5, *payload_len);
        *consumed = total;
        return DC_SSH_OK;
    }
    case M_GCM: {
        if (avail < 4) return DC_SSH_NEED_MORE;
        uint32_t plen = get32(in);
        int r = check_len(plen, c->block, 1);
        if (r) return r;
        size_t total = 4 + (size_t)plen + 16;
        if (avail < total) return DC_SSH_NEED_MORE;
        NEED_ROOM(plen + 16);
        unsigned char tag[16];
        memcpy(tag, in + 4 + plen, 16);
        if (EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, c->iv, 0) != 1 ||
            EVP_CipherUpdate(c->ctx, NULL, &outl, in, 4) != 1 ||
            EVP_CipherUpdate(c->ctx, out, &outl, in + 4, (int)plen) != 1 ||
            EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1) return DC_SSH_CRYPTO;
        if (EVP_CipherFinal_ex(c->ctx, out + plen, &outl) != 1) return DC_SSH_BAD_MAC;
        gcm_next_iv(c);
        if ((r = payload_of(out, plen, payload_len))) return r;
        memmove(out, out + 1, *payload_len);
        *consumed = total;
        return DC_SSH_OK;
    }
    case M_CHACHA: {
        if (avail < 4) return DC_SSH_NEED_MORE;
        unsigned char lenb[4];
        if (chacha(c->hdr, c->key + 32, seq, 0, in, lenb, 4) != 0) return DC_SSH_CRYPTO;
        uint32_t plen = get32(lenb);
        int r = check_len(plen, c->block, 1);
        if (r) return r;
        size_t total = 4 + (size_t)plen + 16;
        if (avail < total) return DC_SSH_NEED_MORE;
        NEED_ROOM(plen);
        unsigned char polykey[32] = {0}, tag[16];
        if (chacha(c->ctx, c->key, seq, 0, polykey, polykey, 32) != 0) return DC_SSH_CRYPTO;
        if (poly1305(polykey, in, 4 + plen, tag) != 0) return DC_SSH_CRYPTO;
        OPENSSL_cleanse(polykey, sizeof polykey);
        if (CRYPTO_memcmp(tag, in + 4 + plen, 16) != 0) return DC_SSH_BAD_MAC;
        if (chacha(c->ctx, c->key, seq, 1, in + 4, out, plen) != 0) return DC_SSH_CRYPTO;
        if ((r = payload_of(out, plen, payload_len))) return r;
        memmove(out, out + 1, *payload_len);
        *consumed = total;
        return DC_SSH_OK;
    }
    }
    return DC_SSH_CRYPTO;
}
