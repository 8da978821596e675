/* keylog.c: TLS key material from pcapng Decryption Secrets Blocks (TLS key log format, NSS:
 * "LABEL <client_random hex> <secret hex>" per line). Only SERVER_HANDSHAKE_TRAFFIC_SECRET is kept:
 * with it the server's TLS 1.3 handshake (EncryptedExtensions, Certificate) can be read for JA4X.
 * Bounded: at most CP_KEYLOG_MAX entries; the table is an open-addressed hash on the client random. */
#include "engine_int.h"
#include <stdlib.h>
#include <string.h>

#define CP_KEYLOG_MAX 65536u
#define SLOTS (2 * CP_KEYLOG_MAX)

typedef struct kentry { uint8_t random[32]; uint8_t secret[48]; uint8_t secret_len, used; } kentry;
struct cp_keylog { kentry *t; uint32_t n; };

static uint32_t slot_of(const uint8_t *random) {
    uint32_t h;
    memcpy(&h, random, 4);          /* client randoms are random: their first bytes are a fine hash */
    return h & (SLOTS - 1);
}

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t unhex(const uint8_t *p, size_t n, uint8_t *out, size_t cap) {
    if (n % 2 || n / 2 > cap) return 0;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval(p[2 * i]), b = hexval(p[2 * i + 1]);
        if (a < 0 || b < 0) return 0;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return n / 2;
}

static void add(cp_keylog *k, const uint8_t *random, const uint8_t *secret, size_t slen) {
    if (k->n >= CP_KEYLOG_MAX) return;
    for (uint32_t i = slot_of(random), probes = 0; probes < SLOTS; i = (i + 1) & (SLOTS - 1), probes++) {
        kentry *e = &k->t[i];
        if (e->used && memcmp(e->random, random, 32) != 0) continue;
        if (!e->used) k->n++;
        memcpy(e->random, random, 32);
        memcpy(e->secret, secret, slen);
        e->secret_len = (uint8_t)slen;
        e->used = 1;
        return;
    }
}

void cp_keylog_ingest(cp_engine *e, const uint8_t *d, size_t n) {
    static const char label[] = "SERVER_HANDSHAKE_TRAFFIC_SECRET ";
    const size_t ll = sizeof label - 1;
    if (!e->keylog) {
        e->keylog = calloc(1, sizeof *e->keylog);
        if (!e->keylog) return;
        e->keylog->t = calloc(SLOTS, sizeof(kentry));
        if (!e->keylog->t) { free(e->keylog); e->keylog = NULL; return; }
    }
    size_t i = 0;
    while (i < n) {
        const uint8_t *lf = memchr(d + i, '\n', n - i);
        size_t end = lf ? (size_t)(lf - d) : n;
        size_t len = end - i;
        if (len > 0 && d[i + len - 1] == '\r') len--;
        /* LABEL SP 64-hex-random SP 64..96-hex-secret */
        if (len > ll + 65 && memcmp(d + i, label, ll) == 0 && d[i + ll + 64] == ' ') {
            uint8_t random[32], secret[48];
            size_t sl = unhex(d + i + ll + 65, len - ll - 65, secret, sizeof secret);
            if (unhex(d + i + ll, 64, random, 32) == 32 && (sl == 32 || sl == 48)) add(e->keylog, random, secret, sl);
        }
        i = end + 1;
    }
}

const uint8_t *cp_keylog_server_hs_secret(const cp_engine *e, const uint8_t *random, size_t *len) {
    const cp_keylog *k = e->keylog;
    if (!k) return NULL;
    for (uint32_t i = slot_of(random), probes = 0; probes < SLOTS; i = (i + 1) & (SLOTS - 1), probes++) {
        const kentry *x = &k->t[i];
        if (!x->used) return NULL;
        if (memcmp(x->random, random, 32) == 0) { *len = x->secret_len; return x->secret; }
    }
    return NULL;
}

void cp_keylog_free(cp_keylog *k) {
    if (!k) return;
    free(k->t);
    free(k);
}
