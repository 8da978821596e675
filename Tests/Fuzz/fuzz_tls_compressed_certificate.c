/* fuzz_tls_compressed_certificate.c: RFC 8879 CompressedCertificate (zlib/brotli) + X.509 walker. */
#include "fuzz_common.h"

static void on_cert(void *ctx, const uint8_t *der, size_t n) {
    cp_x509_rec x = {0};
    cp_out o = fuzz_out(sizeof x);
    uint64_t a = 0;
    uint8_t *c = exact_copy(der, n);
    cp_x509_oids(c, n, &x, &o, &a);
    free(c);
    (void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    uint64_t a = 0;
    cp_tls_compressed_certificate(p, n, on_cert, NULL, &a);
    free(p);
    return 0;
}

