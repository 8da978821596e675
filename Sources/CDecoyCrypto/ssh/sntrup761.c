/* sntrup761.c: Streamlined NTRU Prime 761 encapsulation (the KEM half of sntrup761x25519-sha512,
 * draft-josefsson-ntruprime-ssh; NTRU Prime round-3 specification, parameters p=761, q=4591, w=286).
 * The server side of the SSH key exchange only encapsulates against the client's public key:
 *
 *   r      = Short_random()                    (761 coefficients in {-1,0,1}, exactly 286 nonzero)
 *   h      = Rq_decode(pk)                     (1158 bytes -> 761 coefficients mod q)
 *   c      = Round(h * r mod (x^761 - x - 1))   (each coefficient to the nearest multiple of 3)
 *   ct     = Rounded_encode(c) || HashConfirm(Small_encode(r), pk)      (1007 + 32 = 1039 bytes)
 *   ss     = HashSession(1, Small_encode(r), ct)                          (32 bytes)
 *   Hash_prefix(b, x) = SHA-512(b || x)[0..32)
 * Encode/Decode are the specification's mixed-radix encodings. Written from the specification. */
#include "dc_ssh.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define P 761
#define Q 4591
#define Q12 ((Q - 1) / 2)
#define W 286
#define RQ_BYTES 1158
#define ROUNDED_BYTES 1007
#define SMALL_BYTES 191
#define HASH_BYTES 32

/* Encode R[0..len) with radices M[0..len) (all < 16384), appending bytes to *out. */
static void encode(unsigned char **out, const uint16_t *R, const uint16_t *M, int len) {
    if (len == 1) {
        uint32_t r = R[0], m = M[0];
        while (m > 1) { *(*out)++ = (unsigned char)r; r >>= 8; m = (m + 255) >> 8; }
        return;
    }
    uint16_t R2[(P + 1) / 2], M2[(P + 1) / 2];
    int i;
    for (i = 0; i < len - 1; i += 2) {
        uint32_t m0 = M[i];
        uint32_t r = R[i] + R[i + 1] * m0;
        uint32_t m = M[i + 1] * m0;
        while (m >= 16384) { *(*out)++ = (unsigned char)r; r >>= 8; m = (m + 255) >> 8; }
        R2[i / 2] = (uint16_t)r;
        M2[i / 2] = (uint16_t)m;
    }
    if (i < len) { R2[i / 2] = R[i]; M2[i / 2] = M[i]; }
    encode(out, R2, M2, (len + 1) / 2);
}

/* Inverse of encode: reads from *s (bounded by end), writes R[0..len). -1 on short input. */
static int decode(uint16_t *R, const unsigned char **s, const unsigned char *end, const uint16_t *M, int len) {
    if (len == 1) {
        if (M[0] == 1) { R[0] = 0; return 0; }
        if (M[0] <= 256) {
            if (*s + 1 > end) return -1;
            R[0] = (uint16_t)((*s)[0] % M[0]);
            *s += 1;
            return 0;
        }
        if (*s + 2 > end) return -1;
        R[0] = (uint16_t)(((uint32_t)(*s)[0] + ((uint32_t)(*s)[1] << 8)) % M[0]);
        *s += 2;
        return 0;
    }
    uint16_t R2[(P + 1) / 2], M2[(P + 1) / 2];
    uint32_t bottomr[P / 2], bottomt[P / 2];
    int i;
    for (i = 0; i < len - 1; i += 2) {
        uint32_t m = (uint32_t)M[i] * M[i + 1];
        if (m > 256 * 16383) {
            if (*s + 2 > end) return -1;
            bottomt[i / 2] = 256 * 256;
            bottomr[i / 2] = (uint32_t)(*s)[0] + 256 * (uint32_t)(*s)[1];
            *s += 2;
            M2[i / 2] = (uint16_t)((((m + 255) >> 8) + 255) >> 8);
        } else if (m >= 16384) {
            if (*s + 1 > end) return -1;
            bottomt[i / 2] = 256;
            bottomr[i / 2] = (*s)[0];
            *s += 1;
            M2[i / 2] = (uint16_t)((m + 255) >> 8);
        } else {
            bottomt[i / 2] = 1;
            bottomr[i / 2] = 0;
            M2[i / 2] = (uint16_t)m;
        }
    }
    if (i < len) M2[i / 2] = M[i];
    if (decode(R2, s, end, M2, (len + 1) / 2) != 0) return -1;
    for (i = 0; i < len - 1; i += 2) {
        uint32_t r = bottomr[i / 2] + bottomt[i / 2] * R2[i / 2];
        R[i] = (uint16_t)(r % M[i]);
        R[i + 1] = (uint16_t)((r / M[i]) % M[i + 1]);
    }
    if (i < len) R[i] = R2[i / 2];
    return 0;
}

static int16_t fq_freeze(int32_t x) {
    int32_t v = x % Q;
    if (v > Q12) v -= Q;
    if (v < -Q12) v += Q;
    return (int16_t)v;
}

static int hash_prefix(unsigned char out[HASH_BYTES], int b, const unsigned char *in, size_t n) {
    unsigned char h[64];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char bb = (unsigned char)b;
    unsigned int len = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 && EVP_DigestUpdate(ctx, &bb, 1) == 1 &&
             EVP_DigestUpdate(ctx, in, n) == 1 && EVP_DigestFinal_ex(ctx, h, &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return -1;
    memcpy(out, h, HASH_BYTES);
    return 0;
}

/* A uniformly random fixed-weight ternary polynomial (Fisher-Yates over the positions). */
static int short_random(int8_t r[P]) {
    uint32_t rnd[P];
    if (dc_random_bytes(rnd, sizeof rnd) != 0) return -1;
    for (int i = 0; i < P; i++) r[i] = i < W ? (int8_t)((rnd[i] & 1) ? 1 : -1) : 0;
    for (int i = P - 1; i > 0; i--) {
        uint32_t x;
        uint32_t bound = (uint32_t)(i + 1), limit = UINT32_MAX - UINT32_MAX % bound;
        do { if (dc_random_bytes(&x, sizeof x) != 0) return -1; } while (x >= limit);
        int j = (int)(x % bound);
        int8_t t = r[i]; r[i] = r[j]; r[j] = t;
    }
    return 0;
}

int dc_sntrup761_enc(const unsigned char pk[RQ_BYTES], unsigned char ct[1039], unsigned char ss[32]) {
    uint16_t R[P], M[P];
    int16_t h[P], c[P];
    int8_t r[P];
    int32_t prod[2 * P - 1];
    unsigned char r_enc[SMALL_BYTES];

    for (int i = 0; i < P; i++) M[i] = Q;
    const unsigned char *s = pk;
    if (decode(R, &s, pk + RQ_BYTES, M, P) != 0 || s != pk + RQ_BYTES) return -1;
    for (int i = 0; i < P; i++) h[i] = (int16_t)(R[i] - Q12);
    if (short_random(r) != 0) return -1;

    /* h * r in Z[x], then mod x^761 - x - 1 (x^761 = x + 1), then mod q. */
    memset(prod, 0, sizeof prod);
    for (int i = 0; i < P; i++) {
        if (!r[i]) continue;
        for (int j = 0; j < P; j++) prod[i + j] += r[i] * h[j];
    }
    for (int i = 2 * P - 2; i >= P; i--) { prod[i - P] += prod[i]; prod[i - P + 1] += prod[i]; }
    for (int i = 0; i < P; i++) {
        int16_t a = fq_freeze(prod[i]);
        int f3 = ((a % 3) + 3) % 3;          /* centred residue mod 3 in {-1, 0, 1} */
        if (f3 == 2) f3 = -1;
        c[i] = (int16_t)(a - f3);
    }

    /* Rounded_encode */
    for (int i = 0; i < P; i++) { R[i] = (uint16_t)(((uint32_t)(c[i] + Q12) * 10923) >> 15); M[i] = (Q + 2) / 3; }
    unsigned char *o = ct;
    encode(&o, R, M, P);
    if (o - ct != ROUNDED_BYTES) return -1;

    /* Small_encode */
    for (int i = 0; i < P / 4; i++) {
        r_enc[i] = (unsigned char)((r[4 * i] + 1) + ((r[4 * i + 1] + 1) << 2) + ((r[4 * i + 2] + 1) << 4) + ((r[4 * i + 3] + 1) << 6));
    }
    r_enc[P / 4] = (unsigned char)(r[P - 1] + 1);

    /* HashConfirm(r_enc, pk) = Hash_prefix(2, Hash_prefix(3, r_enc) || Hash_prefix(4, pk)) */
    unsigned char x[HASH_BYTES * 2];
    if (hash_prefix(x, 3, r_enc, SMALL_BYTES) != 0 || hash_prefix(x + HASH_BYTES, 4, pk, RQ_BYTES) != 0) return -1;
    if (hash_prefix(ct + ROUNDED_BYTES, 2, x, sizeof x) != 0) return -1;

    /* HashSession(1, r_enc, ct) = Hash_prefix(1, Hash_prefix(3, r_enc) || ct) */
    unsigned char y[HASH_BYTES + 1039];
    memcpy(y, x, HASH_BYTES);
    memcpy(y + HASH_BYTES, ct, 1039);
    if (hash_prefix(ss, 1, y, sizeof y) != 0) return -1;
    OPENSSL_cleanse(r, sizeof r);
    OPENSSL_cleanse(r_enc, sizeof r_enc);
    OPENSSL_cleanse(x, sizeof x);
    OPENSSL_cleanse(y, sizeof y);
    return 0;
}
