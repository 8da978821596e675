/* fuzz_dtls_handshake.c: libFuzzer harness for the dtls_handshake parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    uint32_t ml = 0; uint64_t a = 0; cp_dtls_datagram(p, n, 1, sink, NULL, &ml, &a);
    free(p);
    return 0;
}
