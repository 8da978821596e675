// cfuzz_driver.h: libFuzzer's entry points for decnet-fuzz, and the crash writer of the mutation driver.
// In a `-sanitize=fuzzer` build libFuzzer's main runs: LLVMFuzzerInitialize picks the harness named by
// DECNET_FUZZ_HARNESS, LLVMFuzzerTestOneInput runs it. In an ordinary build nothing calls them.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// 1 when libFuzzer is linked into this executable (a -sanitize=fuzzer build).
int decnet_fuzz_have_libfuzzer(void);
/// Runs libFuzzer's driver over argv (its flags and corpus directories) with LLVMFuzzerTestOneInput.
int decnet_fuzz_run_libfuzzer(int argc, char **argv);

/// Implemented in Swift (Harnesses.swift): 0 when the harness exists.
int decnet_fuzz_select(const char *name);
void decnet_fuzz_one(const uint8_t *data, size_t size);

/// Installs handlers for SIGILL/SIGTRAP/SIGSEGV/SIGBUS/SIGABRT/SIGFPE that write the input being run to
/// `path` (async-signal-safe: one open + write), then re-raise. Call `decnet_fuzz_current` before each run.
void decnet_fuzz_install_crash_writer(const char *path);
void decnet_fuzz_current(const uint8_t *data, size_t size);
