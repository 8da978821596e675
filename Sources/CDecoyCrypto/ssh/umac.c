/* umac.c: UMAC (RFC 4418) with AES-128, tag lengths 8 and 16, as umac-64@openssh.com and
 * umac-128@openssh.com use it (the 8-byte nonce is the packet sequence number, big-endian).
 *
 *   UMAC(K, M, N) = UHASH(K, M) xor PDF(K, N)
 *   UHASH: per 4-byte "stream" i (taglen/4 of them):
 *     L1 = NH over 1024-byte chunks (message words little-endian, key words big-endian) + chunk bit length
 *     L2 = POLY64 over the L1 outputs (only when the message is longer than one chunk; else 0^8 || L1)
 *          (SSH packets are at most 256 KiB, so the POLY128 stage of §5.4 for >16 MiB messages never runs)
 *     L3 = inner product mod 2^36-5, xor a 4-byte key
 *   Keys come from KDF(K, index, n) = AES_K(uint64(index) || uint64(1..)) (index 0 PDF, 1 L1, 2 L2, 3/4 L3).
 * Written from the RFC; not constant-time in the message (lengths are public in SSH anyway). */
#include "dc_ssh.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define L1_BYTES 1024
#define P36 ((uint64_t)0xFFFFFFFFBull) /* 2^36 - 5 */
#define P64 ((uint64_t)0xFFFFFFFFFFFFFFC5ull) /* 2^64 - 59 */

struct dc_umac {
    int taglen, streams;
    EVP_CIPHER_CTX *prf;       /* AES under K' = KDF(K, 0, 16), for the PDF */
    uint32_t l1[L1_BYTES / 4 + 4 * 3];   /* NH key words (stream i uses l1[4i ..]) */
    uint64_t l2[4];            /* POLY64 keys, masked */
    uint64_t l3[4][8];         /* inner-product keys mod p36 */
    uint32_t l3x[4];           /* final xor words */
};

static int aes_block(EVP_CIPHER_CTX *ctx, const unsigned char in[16], unsigned char out[16]) {
    int outl = 0;
    return EVP_EncryptUpdate(ctx, out, &outl, in, 16) == 1 ? 0 : -1;
}

static int kdf(EVP_CIPHER_CTX *k, unsigned index, unsigned char *out, size_t n) {
    unsigned char in[16], blk[16];
    for (uint64_t i = 1; n > 0; i++) {
        memset(in, 0, 16);
        for (int b = 0; b < 8; b++) { in[7 - b] = (unsigned char)((uint64_t)index >> (8 * b)); in[15 - b] = (unsigned char)(i >> (8 * b)); }
        if (aes_block(k, in, blk) != 0) return -1;
        size_t take = n < 16 ? n : 16;
        memcpy(out, blk, take);
        out += take;
        n -= take;
    }
    return 0;
}

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t be64(const unsigned char *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static uint32_t le32(const unsigned char *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }

static EVP_CIPHER_CTX *aes_ctx(const unsigned char key[16]) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) return NULL;
    if (EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) != 1) { EVP_CIPHER_CTX_free(c); return NULL; }
    EVP_CIPHER_CTX_set_padding(c, 0);
    return c;
}

void dc_umac_free(dc_umac *u) {
    if (!u) return;
    EVP_CIPHER_CTX_free(u->prf);
    OPENSSL_cleanse(u, sizeof *u);
    free(u);
}

dc_umac *dc_umac_new(const unsigned char key[16], int taglen) {
    if (taglen != 8 && taglen != 16) return NULL;
    dc_umac *u = calloc(1, sizeof *u);
    if (!u) return NULL;
    u->taglen = taglen;
    u->streams = taglen / 4;
    EVP_CIPHER_CTX *k = aes_ctx(key);
    unsigned char buf[L1_BYTES + 16 * 3];
    int ok = k != NULL;
    if (ok) {
        unsigned char kp[16];
        ok = kdf(k, 0, kp, 16) == 0 && (u->prf = aes_ctx(kp)) != NULL;
        OPENSSL_cleanse(kp, sizeof kp);
    }
    size_t l1n = L1_BYTES + 16 * (size_t)(u->streams - 1);
    if (ok) ok = kdf(k, 1, buf, l1n) == 0;
    if (ok) for (size_t i = 0; i < l1n / 4; i++) u->l1[i] = be32(buf + 4 * i);
    if (ok) ok = kdf(k, 2, buf, 24 * (size_t)u->streams) == 0;
    if (ok) for (int i = 0; i < u->streams; i++) u->l2[i] = be64(buf + 24 * i) & 0x01FFFFFF01FFFFFFull;
    if (ok) ok = kdf(k, 3, buf, 64 * (size_t)u->streams) == 0;
    if (ok) for (int i = 0; i < u->streams; i++) for (int j = 0; j < 8; j++) u->l3[i][j] = be64(buf + 64 * i + 8 * j) % P36;
    if (ok) ok = kdf(k, 4, buf, 4 * (size_t)u->streams) == 0;
    if (ok) for (int i = 0; i < u->streams; i++) u->l3x[i] = be32(buf + 4 * i);
    OPENSSL_cleanse(buf, sizeof buf);
    EVP_CIPHER_CTX_free(k);
    if (!ok) { dc_umac_free(u); return NULL; }
    return u;
}

/* NH of one chunk (len <= 1024) for stream s, plus the chunk's bit length. */
static uint64_t nh(const dc_umac *u, int s, const unsigned char *m, size_t len) {
    const uint32_t *k = u->l1 + 4 * s;
    size_t padded = len == 0 ? 32 : (len + 31) & ~(size_t)31;     /* zeropad: at least one 32-byte block */
    unsigned char tail[32];
    uint64_t y = 0;
    for (size_t off = 0; off < padded; off += 32) {
        const unsigned char *p = m + off;
        if (off + 32 > len) { memset(tail, 0, 32); if (len > off) memcpy(tail, m + off, len - off); p = tail; }
        uint32_t w[8];
        for (int i = 0; i < 8; i++) w[i] = le32(p + 4 * i);
        const uint32_t *kk = k + off / 4;
        for (int i = 0; i < 4; i++) y += (uint64_t)(uint32_t)(w[i] + kk[i]) * (uint64_t)(uint32_t)(w[i + 4] + kk[i + 4]);
    }
    return y + (uint64_t)len * 8;
}

static uint64_t poly64_step(uint64_t y, uint64_t k, uint64_t m) {
    unsigned __int128 t = (unsigned __int128)k * y + m;
    return (uint64_t)(t % P64);
}

int dc_umac_tag(dc_umac *u, const unsigned char *m, size_t n, const unsigned char nonce[8], unsigned char *tag) {
    unsigned char out[16];
    for (int s = 0; s < u->streams; s++) {
        uint64_t a;
        if (n <= L1_BYTES) {
            a = nh(u, s, m, n);
        } else {
            uint64_t y = 1;
            for (size_t off = 0; off < n; off += L1_BYTES) {
                size_t len = n - off < L1_BYTES ? n - off : L1_BYTES;
                uint64_t w = nh(u, s, m + off, len);
                if (w >= 0xFFFFFFFF00000000ull) {
                    y = poly64_step(y, u->l2[s], P64 - 1);
                    y = poly64_step(y, u->l2[s], w - 59);
                } else {
                    y = poly64_step(y, u->l2[s], w);
                }
            }
            a = y;
        }
        /* L3 over 0^8 || a: the zero half contributes nothing. */
        uint64_t t = 0;
        for (int j = 0; j < 4; j++) t += u->l3[s][4 + j] * ((a >> (48 - 16 * j)) & 0xFFFF);
        t %= P36;
        uint32_t c = (uint32_t)t ^ u->l3x[s];
        out[4 * s] = (unsigned char)(c >> 24); out[4 * s + 1] = (unsigned char)(c >> 16);
        out[4 * s + 2] = (unsigned char)(c >> 8); out[4 * s + 3] = (unsigned char)c;
    }
    unsigned char nb[16] = {0}, pad[16];
    memcpy(nb, nonce, 8);
    int index = 0;
    if (u->taglen == 8) { index = nb[7] & 1; nb[7] &= 0xFE; }
    if (aes_block(u->prf, nb, pad) != 0) return -1;
    for (int i = 0; i < u->taglen; i++) tag[i] = out[i] ^ pad[index * u->taglen + i];
    return 0;
}
