/* fuzz_common.h: every harness copies the input into an exactly-sized heap buffer so that ASan
 * catches any read past its end, then calls one parser. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "CPacket.h"
static uint8_t *exact_copy(const uint8_t *d, size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    if (n) memcpy(p, d, n);
    return p;
}
static uint8_t fuzz_payload[CP_PAYLOAD_MAX];
static cp_out fuzz_out(size_t head) { cp_out o = { fuzz_payload, sizeof fuzz_payload, head, 0 }; return o; }
/* Reads every byte a parser hands out, so ASan sees any out-of-bounds span. */
__attribute__((unused)) static void sink(void *ctx, uint64_t off, const uint8_t *d, size_t n) {
    volatile uint8_t x = 0;
    for (size_t i = 0; i < n; i++) x ^= d[i];
    (void)ctx; (void)off;
}
/* Certificate callback shared by the certificate harnesses: every DER blob through the X.509 reader. */
__attribute__((unused)) static void fuzz_on_cert(void *ctx, const uint8_t *der, size_t n) {
    cp_x509_rec x = {0};
    cp_out o = fuzz_out(sizeof x);
    uint64_t a = 0;
    uint8_t *c = exact_copy(der, n);
    cp_x509_oids(c, n, &x, &o, &a);
    free(c);
    (void)ctx;
}
#endif
