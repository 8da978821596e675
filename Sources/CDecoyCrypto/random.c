/* random.c: random bytes for the decoys' wire crypto, from OpenSSL's DRBG (see dc_ssh.h). */
#include "dc_ssh.h"

#include <limits.h>
#include <openssl/rand.h>

int dc_random_bytes(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1) return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}
