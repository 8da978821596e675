/* fuzz_ssh_kexinit.c: libFuzzer harness for the ssh_kexinit parser (exact-size input copy; ASan/UBSan). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    uint8_t *p = exact_copy(d, n);
    cp_kexinit_rec k = {0}; cp_out o = fuzz_out(sizeof k); size_t used; uint64_t a = 0; cp_ssh_kexinit(p, n, &k, &o, &used, &a);
    free(p);
    return 0;
}
