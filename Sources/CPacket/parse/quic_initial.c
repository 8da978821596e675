/* quic_initial.c: QUIC Initial packets (RFC 9000 §17.2.2), protection removed per RFC 9001 §5
 * (v1) / RFC 9369 §3.3 (v2), CRYPTO frames (RFC 9000 §19.6) handed to a reassembly callback.
 *   Long header: |1|1|type2|rsv2|pnlen2| version32 | dcid_len8 dcid | scid_len8 scid |
 *     Initial: token_len(varint) token | length(varint) | packet number (1-4, protected) | payload
 *   initial_secret = HKDF-Extract(salt, client's first DCID); client/server secret =
 *   HKDF-Expand-Label(initial, "client in"/"server in", "", 32); key/iv/hp from "quic key"/"quic iv"/
 *   "quic hp" ("quicv2 ..." for v2). Header protection: AES-ECB(hp, sample = 16 bytes starting 4
 *   bytes after the packet-number offset). Payload: AES-128-GCM, nonce = iv XOR packet number.
 * Several packets may be coalesced in one datagram; a short-header packet ends the datagram. */
#include "cp_parse.h"
#include "cp_anomaly.h"
#include "../util/cp_cursor.h"
#include "../util/hkdf.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu

static const uint8_t salt_v1[20] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                     0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
static const uint8_t salt_v2[20] = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                     0x81, 0xbe, 0x6e, 0x26, 0x9a, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };
/* draft-29 salt (still seen in old captures) */
static const uint8_t salt_d29[20] = { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 };

static uint64_t varint(cp_cur *c) {
    uint8_t b = cp_u8(c);
    unsigned len = 1u << (b >> 6);
    uint64_t v = b & 0x3f;
    for (unsigned i = 1; i < len; i++) v = (v << 8) | cp_u8(c);
    return v;
}

static int expand_label(const uint8_t *secret, const char *label, uint8_t *out, size_t out_len) {
    return cp_hkdf_expand_label(EVP_sha256(), secret, 32, label, out, out_len);
}

typedef struct qkeys { uint8_t key[16], iv[12], hp[16]; } qkeys;

static int derive(uint32_t version, const uint8_t *dcid, size_t dlen, int server, qkeys *k) {
    const uint8_t *salt = version == QUIC_V2 ? salt_v2 : version == QUIC_V1 ? salt_v1 : salt_d29;
    uint8_t initial[32], secret[32];
    unsigned l = 0;
    if (!HMAC(EVP_sha256(), salt, 20, dcid, dlen, initial, &l) || l != 32) return 0;
    if (!expand_label(initial, server ? "server in" : "client in", secret, 32)) return 0;
    int v2 = version == QUIC_V2;
    return expand_label(secret, v2 ? "quicv2 key" : "quic key", k->key, 16) &&
           expand_label(secret, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) &&
           expand_label(secret, v2 ? "quicv2 hp" : "quic hp", k->hp, 16);
}

static int known_version(uint32_t v) {
    return v == QUIC_V1 || v == QUIC_V2 || v == 0xff00001du;   /* v1, v2, draft-29 */
}

/* Long-header packet type for Initial in this version (v2 renumbered them). */
static unsigned initial_type(uint32_t v) { return v == QUIC_V2 ? 1 : 0; }
static unsigned handshake_type(uint32_t v) { return v == QUIC_V2 ? 3 : 2; }

int cp_quic_looks_like_initial(const uint8_t *p, size_t n) {
    if (n < 7 || (p[0] & 0xc0) != 0xc0) return 0;
    uint32_t v = cp_rd32(p + 1);
    return known_version(v) && ((p[0] >> 4) & 3) == initial_type(v) && p[5] <= 20;
}

static int frames(const uint8_t *pt, size_t n, cp_crypto_cb cb, void *ctx, uint64_t *anom) {
    cp_cur c = cp_cur_make(pt, n);
    while (cp_left(&c) > 0 && !c.bad) {
        uint64_t type = varint(&c);
        switch (type) {
        case 0x00: case 0x01: break;                                  /* PADDING, PING */
        case 0x02: case 0x03: {                                       /* ACK */
            varint(&c); varint(&c);
            uint64_t ranges = varint(&c);
            varint(&c);
            for (uint64_t i = 0; i < ranges && !c.bad; i++) { varint(&c); varint(&c); }
            if (type == 0x03) { varint(&c); varint(&c); varint(&c); }
            break;
        }
        case 0x06: {                                                  /* CRYPTO */
            uint64_t off = varint(&c), len = varint(&c);
            if (c.bad || len > cp_left(&c)) { *anom |= CP_AN(CP_AN_QUIC_BAD); return 0; }
            cb(ctx, off, cp_here(&c), (size_t)len);
            cp_skip(&c, (size_t)len);
            break;
        }
        case 0x1c: case 0x1d: return 1;                               /* CONNECTION_CLOSE */
        default: *anom |= CP_AN(CP_AN_QUIC_BAD); return 0;            /* not allowed in Initial */
        }
    }
    return !c.bad;
}

static int unprotect(const uint8_t *pkt, size_t pn_off, size_t end, const qkeys *k, uint8_t *plain, size_t *plain_len) {
    if (end < pn_off + 4 + 16) return 0;
    uint8_t mask[32];
    int ol = 0, ok = 0;
    EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
    if (!ecb) return 0;
    if (EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, k->hp, NULL) == 1 &&
        EVP_EncryptUpdate(ecb, mask, &ol, pkt + pn_off + 4, 16) == 1 && ol == 16) ok = 1;
    EVP_CIPHER_CTX_free(ecb);
    if (!ok) return 0;
    uint8_t hdr[64 + 1500];
    if (pn_off + 4 > sizeof hdr) return 0;
    uint8_t first = pkt[0] ^ (mask[0] & 0x0f);
    size_t pn_len = (first & 3) + 1;
    memcpy(hdr, pkt, pn_off + pn_len);
    hdr[0] = first;
    uint64_t pn = 0;
    for (size_t i = 0; i < pn_len; i++) { hdr[pn_off + i] = pkt[pn_off + i] ^ mask[1 + i]; pn = (pn << 8) | hdr[pn_off + i]; }
    size_t ct_off = pn_off + pn_len;
    if (end < ct_off + 16) return 0;
    size_t ct_len = end - ct_off - 16;
    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    EVP_CIPHER_CTX *g = EVP_CIPHER_CTX_new();
    if (!g) return 0;
    ok = 0;
    int l1 = 0, l2 = 0;
    if (EVP_DecryptInit_ex(g, EVP_aes_128_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(g, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
        EVP_DecryptInit_ex(g, NULL, NULL, k->key, nonce) == 1 &&
        EVP_DecryptUpdate(g, NULL, &l1, hdr, (int)ct_off) == 1 &&
        EVP_DecryptUpdate(g, plain, &l1, pkt + ct_off, (int)ct_len) == 1 &&
        EVP_CIPHER_CTX_ctrl(g, EVP_CTRL_GCM_SET_TAG, 16, (void *)(pkt + ct_off + ct_len)) == 1 &&
        EVP_DecryptFinal_ex(g, plain + l1, &l2) == 1) ok = 1;
    EVP_CIPHER_CTX_free(g);
    *plain_len = (size_t)(l1 + l2);
    return ok;
}

cp_status cp_quic_datagram(const uint8_t *p, size_t n, const uint8_t *odcid, size_t odcid_len, int from_server,
                           cp_crypto_cb cb, void *ctx, cp_quic_info *info, uint64_t *anom) {
    cp_cur c = cp_cur_make(p, n);
    int decrypted = 0;
    memset(info, 0, sizeof *info);
    info->first_type = 0xff;
    while (cp_left(&c) > 0) {
        size_t start = c.off;
        uint8_t b0 = cp_u8(&c);
        if ((b0 & 0x80) == 0) break;                        /* short header: rest is 1-RTT */
        uint32_t ver = cp_u32be(&c);
        uint8_t dl = cp_u8(&c);
        cp_cur dcid = cp_sub(&c, dl);
        uint8_t sl = cp_u8(&c);
        cp_skip(&c, sl);
        if (c.bad || dl > 20 || sl > 20) { *anom |= CP_AN(CP_AN_QUIC_BAD); break; }
        if (ver == 0 || !known_version(ver)) break;         /* version negotiation / unknown */
        if (!info->version) { info->version = ver; memcpy(info->dcid, dcid.p, dl); info->dcid_len = dl; }
        unsigned type = (b0 >> 4) & 3;
        if (info->first_type == 0xff)
            info->first_type = (uint8_t)(ver == QUIC_V2 ? (type == 1 ? 0 : type == 3 ? 2 : type == 2 ? 1 : 3) : type);
        if (type == (ver == QUIC_V2 ? 0u : 3u)) break;      /* Retry carries no Length field */
        if (type == initial_type(ver)) cp_skip(&c, (size_t)varint(&c));     /* token */
        uint64_t len = varint(&c);
        if (c.bad || len > cp_left(&c)) { *anom |= CP_AN(CP_AN_QUIC_BAD); break; }
        size_t pn_off = c.off, end = c.off + (size_t)len;
        cp_skip(&c, (size_t)len);
        if (type == handshake_type(ver)) { info->n_handshake++; continue; }
        if (type != initial_type(ver)) continue;            /* 0-RTT */
        info->n_initial++;
        if (!cb) continue;                                  /* timing only: no decryption */
        const uint8_t *keyid = odcid_len ? odcid : dcid.p;
        size_t keylen = odcid_len ? odcid_len : dl;
        qkeys k;
        uint8_t plain[2048];
        size_t plen = 0;
        if (end - start > sizeof plain || !derive(ver, keyid, keylen, from_server, &k) ||
            !unprotect(p + start, pn_off - start, end - start, &k, plain, &plen)) {
            *anom |= CP_AN(CP_AN_QUIC_BAD);
            continue;
        }
        decrypted = 1;
        frames(plain, plen, cb, ctx, anom);
    }
    return decrypted ? CP_OK : CP_INVALID;
}
