// cfuzz_driver.h: libFuzzer's driver entry, declared weak so the fuzz executable links in an ordinary build
// (no libFuzzer: the deterministic mutation driver runs) and in a `-sanitize=fuzzer` build (coverage-guided).
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef int (*decnet_fuzz_callback)(const uint8_t *data, size_t size);

/// 1 when libFuzzer is linked into this executable.
int decnet_fuzz_have_libfuzzer(void);
/// Runs libFuzzer's driver with argv (flags and corpus directories) over `cb`.
int decnet_fuzz_run_libfuzzer(int argc, char **argv, decnet_fuzz_callback cb);
/// Installs handlers for SIGILL/SIGTRAP/SIGSEGV/SIGBUS/SIGABRT/SIGFPE that write the input being run to
/// `path` (async-signal-safe: one open + write), then re-raise. Call `decnet_fuzz_current` before each run.
void decnet_fuzz_install_crash_writer(const char *path);
void decnet_fuzz_current(const uint8_t *data, size_t size);
