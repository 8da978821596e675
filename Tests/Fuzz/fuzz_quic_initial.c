/* fuzz_quic_initial.c: libFuzzer harness for the quic_initial parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    cp_quic_info qi; uint64_t a = 0; size_t dl = n > 6 ? (p[5] > 20 ? 20 : p[5]) : 0; cp_quic_datagram(p, n, n > 6 + dl ? p + 6 : NULL, n > 6 + dl ? dl : 0, n > 0 && (d[n - 1] & 1), sink, NULL, &qi, &a);
    free(p);
    return 0;
}
