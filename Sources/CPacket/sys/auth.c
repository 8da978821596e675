/* auth.c: bcrypt through libxcrypt, HMAC-SHA256 through OpenSSL (see cp_auth.h). */
#include "cp_auth.h"

#include <crypt.h>
#include <string.h>
#include <sys/random.h>
#include <errno.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int cp_random_bytes(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) { if (errno == EINTR) continue; return -1; }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int cp_bcrypt_hash(const char *password, int cost, char *out, size_t cap) {
    if (cost < 4 || cost > 31 || cap < 61) return -1;
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    unsigned char rnd[16];
    if (cp_random_bytes(rnd, sizeof rnd) != 0) return -1;
    if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, (const char *)rnd, sizeof rnd, salt, sizeof salt)) return -1;
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *h = crypt_r(password, salt, &data);
    if (!h || h[0] != '$' || strlen(h) >= cap) return -1;
    strcpy(out, h);
    return 0;
}

int cp_bcrypt_verify(const char *password, const char *hash) {
    if (!hash || strncmp(hash, "$2", 2) != 0) return 0;
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *h = crypt_r(password, hash, &data);
    if (!h || h[0] != '$') return 0;
    size_t a = strlen(h), b = strlen(hash);
    if (a != b) return 0;
    return CRYPTO_memcmp(h, hash, a) == 0;
}

int cp_hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, unsigned char out[32]) {
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &len) || len != 32) return -1;
    return 0;
}
