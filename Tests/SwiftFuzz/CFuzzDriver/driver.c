#define _GNU_SOURCE
#include "cfuzz_driver.h"
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *h = getenv("DECNET_FUZZ_HARNESS");
    if (!h || decnet_fuzz_select(h) != 0) {
        fprintf(stderr, "decnet-fuzz: set DECNET_FUZZ_HARNESS to a harness name (decnet-fuzz --list in an ordinary build)\n");
        exit(64);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    decnet_fuzz_one(data, size);
    return 0;
}

extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *, size_t)) __attribute__((weak));

int decnet_fuzz_have_libfuzzer(void) { return LLVMFuzzerRunDriver != 0; }

int decnet_fuzz_run_libfuzzer(int argc, char **argv) {
    if (!LLVMFuzzerRunDriver) return 69;
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

static char crash_path[4096];
static const uint8_t *cur_data;
static size_t cur_size;

void decnet_fuzz_current(const uint8_t *data, size_t size) { cur_data = data; cur_size = size; }

static void on_crash(int sig) {
    int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        size_t off = 0;
        while (off < cur_size) { ssize_t n = write(fd, cur_data + off, cur_size - off); if (n <= 0) break; off += (size_t)n; }
        close(fd);
    }
    static const char msg[] = "decnet-fuzz: crash; the input is in the crash file named on start-up\n";
    (void)!write(2, msg, sizeof msg - 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

void decnet_fuzz_install_crash_writer(const char *path) {
    strncpy(crash_path, path, sizeof crash_path - 1);
    int sigs[] = { SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_crash;
        sa.sa_flags = SA_RESETHAND;
        sigaction(sigs[i], &sa, 0);
    }
}
