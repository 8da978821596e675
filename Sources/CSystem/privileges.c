/* privileges.c: capabilities on every thread, the user switch, no_new_privs and the seccomp allow-list (cs_privileges.h). */
#define _GNU_SOURCE
#include "cs_privileges.h"
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <grp.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int cs_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

static int get_caps(struct __user_cap_data_struct data[2]) {
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    return syscall(SYS_capget, &h, data) == 0 ? 0 : -errno;
}

static int set_caps(uint64_t eff, uint64_t perm, uint64_t inh) {
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[2];
    d[0].effective = (uint32_t)eff; d[1].effective = (uint32_t)(eff >> 32);
    d[0].permitted = (uint32_t)perm; d[1].permitted = (uint32_t)(perm >> 32);
    d[0].inheritable = (uint32_t)inh; d[1].inheritable = (uint32_t)(inh >> 32);
    return syscall(SYS_capset, &h, d) == 0 ? 0 : -errno;
}

uint64_t cs_effective_capabilities(void) {
    struct __user_cap_data_struct d[2];
    if (get_caps(d) != 0) return 0;
    return (uint64_t)d[0].effective | ((uint64_t)d[1].effective << 32);
}

/* One thread: bounding set (while CAP_SETPCAP is effective), ambient, then effective/permitted. Only raw
 * syscalls: it also runs in a signal handler. */
static int limit_this_thread(uint64_t bounding, uint64_t keep) {
    struct __user_cap_data_struct d[2];
    int rc = get_caps(d);
    if (rc) return rc;
    uint64_t perm = (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
    uint64_t eff = (uint64_t)d[0].effective | ((uint64_t)d[1].effective << 32);
    if (eff & (1ULL << CS_CAP_SETPCAP)) {
        for (int c = 0; c <= 63; c++) {
            if (bounding & (1ULL << c)) continue;
            if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) return -errno;
        }
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    uint64_t k = keep & perm;
    return set_caps(k, k, 0);
}

/* Capabilities are per thread in Linux: a process-wide change is a broadcast. Every other thread gets a
 * real-time signal whose handler applies the same change and acknowledges; threads created meanwhile are
 * found on the next pass over /proc/self/task (a thread inherits its creator's set, so a pass that finds no
 * new thread ends it). */
static _Atomic uint64_t bc_keep, bc_bounding;
static atomic_int bc_done, bc_failed;

static void bc_handler(int sig) {
    (void)sig;
    int saved = errno;
    if (limit_this_thread(atomic_load(&bc_bounding), atomic_load(&bc_keep)) != 0) atomic_fetch_add(&bc_failed, 1);
    atomic_fetch_add(&bc_done, 1);
    errno = saved;
}

#define BC_MAX_THREADS 4096

int cs_limit_capabilities(uint64_t bounding, uint64_t keep) {
    int sig = SIGRTMAX - 1;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = bc_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &old) != 0) return -errno;
    atomic_store(&bc_keep, keep);
    atomic_store(&bc_bounding, bounding);
    atomic_store(&bc_done, 0);
    atomic_store(&bc_failed, 0);
    pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
    static pid_t handled[BC_MAX_THREADS];
    int nhandled = 0, sent = 0, rc = 0;
    for (int pass = 0; pass < 16 && rc == 0; pass++) {
        DIR *d = opendir("/proc/self/task");
        if (!d) { rc = -errno; break; }
        int fresh = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0 || tid == self) continue;
            int seen = 0;
            for (int i = 0; i < nhandled; i++) if (handled[i] == tid) { seen = 1; break; }
            if (seen) continue;
            if (nhandled == BC_MAX_THREADS) { rc = -E2BIG; break; }
            handled[nhandled++] = tid;
            if (syscall(SYS_tgkill, pid, tid, sig) == 0) { sent++; fresh++; }   /* ESRCH: it already exited */
        }
        closedir(d);
        /* Wait for the acknowledgements (2 s at most). */
        for (int w = 0; w < 2000 && atomic_load(&bc_done) < sent; w++) {
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, 0);
        }
        if (atomic_load(&bc_done) < sent) { rc = -ETIMEDOUT; break; }
        if (fresh == 0) break;
    }
    sigaction(sig, &old, 0);
    if (rc == 0 && atomic_load(&bc_failed) > 0) rc = -EPERM;
    if (rc == 0) rc = limit_this_thread(bounding, keep);
    return rc;
}

int cs_switch_user(uid_t uid, gid_t gid, uint64_t keep) {
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return -errno;
    if (setgroups(1, &gid) != 0) return -errno;
    if (setresgid(gid, gid, gid) != 0) return -errno;
    if (setresuid(uid, uid, uid) != 0) return -errno;
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    // After setuid the effective set is empty and permitted kept: raise exactly `keep` again.
    struct __user_cap_data_struct d[2];
    int rc = get_caps(d);
    if (rc) return rc;
    uint64_t perm = (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
    uint64_t k = keep & perm;
    return set_caps(k, k, 0);
}

int cs_seccomp_allow(const char *const *names, int count, int log_only, int *skipped) {
    scmp_filter_ctx ctx = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(EPERM));
    if (!ctx) return -ENOMEM;
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    int miss = 0;
    for (int i = 0; rc == 0 && i < count; i++) {
        int nr = seccomp_syscall_resolve_name(names[i]);
        if (nr == __NR_SCMP_ERROR) { miss++; continue; }
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    if (rc == 0) rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (skipped) *skipped = miss;
    return rc;
}

int cs_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0) == 0 ? 0 : -errno;
}
