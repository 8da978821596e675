/* bcrypt.c: bcrypt through libxcrypt (see cs_bcrypt.h). */
#include "cs_bcrypt.h"

#include <crypt.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

static int random_bytes(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) { if (errno == EINTR) continue; return -1; }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Constant-time equality of two equal-length strings. */
static int same(const char *a, const char *b, size_t n) {
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

int cs_bcrypt_hash(const char *password, int cost, char *out, size_t cap) {
    if (cost < 4 || cost > 31 || cap < 61) return -1;
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    unsigned char rnd[16];
    if (random_bytes(rnd, sizeof rnd) != 0) return -1;
    if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, (const char *)rnd, sizeof rnd, salt, sizeof salt)) return -1;
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *h = crypt_r(password, salt, &data);
    if (!h || h[0] != '$' || strlen(h) >= cap) return -1;
    strcpy(out, h);
    return 0;
}

int cs_bcrypt_verify(const char *password, const char *hash) {
    if (!hash || strncmp(hash, "$2", 2) != 0) return 0;
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *h = crypt_r(password, hash, &data);
    if (!h || h[0] != '$') return 0;
    size_t a = strlen(h), b = strlen(hash);
    if (a != b) return 0;
    return same(h, hash, a);
}
