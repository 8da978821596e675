/* fuzz_tls_certificate.c: libFuzzer harness for the Certificate message walker + X.509 OID reader. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    uint64_t a = 0;
    cp_tls_certificate(p, n, n > 0 && (d[n - 1] & 1), fuzz_on_cert, NULL, &a);
    free(p);
    return 0;
}

