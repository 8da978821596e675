/* tls13_decrypt.c: reading the server's TLS 1.3 handshake flight when the capture carries its key
 * (pcapng DSB). RFC 8446 §5.2-5.3, §7.3: key = HKDF-Expand-Label(server_handshake_traffic_secret, "key",
 * "", key_len), iv likewise with "iv" (12 bytes); per record nonce = iv XOR seq (64-bit, big-endian,
 * right-aligned); AEAD additional data = the 5-byte record header; plaintext = content | type | zeros. */
#include "stream_int.h"
#include "../util/hkdf.h"
#include <stdlib.h>
#include <string.h>

cp_tls13 *cp_tls13_new(uint16_t suite, const uint8_t *secret, size_t secret_len) {
    const EVP_MD *md;
    size_t key_len;
    switch (suite) {
    case 0x1301: md = EVP_sha256(); key_len = 16; break;   /* TLS_AES_128_GCM_SHA256 */
    case 0x1302: md = EVP_sha384(); key_len = 32; break;   /* TLS_AES_256_GCM_SHA384 */
    case 0x1303: md = EVP_sha256(); key_len = 32; break;   /* TLS_CHACHA20_POLY1305_SHA256 */
    default: return NULL;
    }
    if (secret_len != (size_t)EVP_MD_get_size(md)) return NULL;
    cp_tls13 *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->suite = suite;
    t->key_len = (uint8_t)key_len;
    if (!cp_hkdf_expand_label(md, secret, secret_len, "key", t->key, key_len) ||
        !cp_hkdf_expand_label(md, secret, secret_len, "iv", t->iv, 12)) { free(t); return NULL; }
    return t;
}

/* Decrypts one record (header + ciphertext) into out; returns plaintext length (inner type stripped
 * into *type) or -1. */
long cp_tls13_open(cp_tls13 *t, const uint8_t *rec, size_t n, uint8_t *out, size_t cap, uint8_t *type) {
    if (n < 5 + 16 + 1 || n - 5 - 16 > cap) return -1;
    const EVP_CIPHER *c = t->suite == 0x1301 ? EVP_aes_128_gcm() : t->suite == 0x1302 ? EVP_aes_256_gcm()
                                                                                     : EVP_chacha20_poly1305();
    uint8_t nonce[12];
    memcpy(nonce, t->iv, 12);
    for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(t->seq >> (8 * i));
    t->seq++;
    size_t ct = n - 5 - 16;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    if (!x) return -1;
    int l1 = 0, l2 = 0, ok =
        EVP_DecryptInit_ex(x, c, NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
        EVP_DecryptInit_ex(x, NULL, NULL, t->key, nonce) == 1 &&
        EVP_DecryptUpdate(x, NULL, &l1, rec, 5) == 1 &&
        EVP_DecryptUpdate(x, out, &l1, rec + 5, (int)ct) == 1 &&
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(rec + 5 + ct)) == 1 &&
        EVP_DecryptFinal_ex(x, out + l1, &l2) == 1;
    EVP_CIPHER_CTX_free(x);
    if (!ok) return -1;
    long len = l1 + l2;
    while (len > 0 && out[len - 1] == 0) len--;     /* padding */
    if (len == 0) return -1;
    *type = out[len - 1];
    return len - 1;
}
