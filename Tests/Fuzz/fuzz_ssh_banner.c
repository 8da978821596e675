/* fuzz_ssh_banner.c: libFuzzer harness for the ssh_banner parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    size_t lo, ll, used; uint64_t a = 0; cp_ssh_banner(p, n, &lo, &ll, &used, &a);
    free(p);
    return 0;
}
