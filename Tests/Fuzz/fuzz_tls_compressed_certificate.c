/* fuzz_tls_compressed_certificate.c: RFC 8879 CompressedCertificate (zlib/brotli) + X.509 walker. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    uint64_t a = 0;
    cp_tls_compressed_certificate(p, n, fuzz_on_cert, NULL, &a);
    free(p);
    return 0;
}

