// cs_privileges.h: what a daemon does to itself after set-up (issue 16): no new privileges, a smaller
// capability set, another user, a seccomp allow-list. Every call returns 0 or -errno and changes nothing
// it cannot finish.
#pragma once
#include <stdint.h>
#include <sys/types.h>

/// Capability numbers used by decnet (linux/capability.h).
enum {
    CS_CAP_CHOWN = 0, CS_CAP_DAC_OVERRIDE = 1, CS_CAP_DAC_READ_SEARCH = 2, CS_CAP_FOWNER = 3, CS_CAP_KILL = 5,
    CS_CAP_SETGID = 6, CS_CAP_SETUID = 7, CS_CAP_SETPCAP = 8, CS_CAP_NET_BIND_SERVICE = 10, CS_CAP_NET_ADMIN = 12,
    CS_CAP_NET_RAW = 13, CS_CAP_SYS_CHROOT = 18, CS_CAP_SYS_PTRACE = 19, CS_CAP_SYS_ADMIN = 21,
};

/// prctl(PR_SET_NO_NEW_PRIVS): execve can never grant privileges again (setuid binaries, file caps).
int cs_no_new_privs(void);

/// On every thread of the process (capabilities are per thread: a real-time signal carries the change to
/// the others): the bounding set keeps only `bounding` (while CAP_SETPCAP is still held), ambient is
/// cleared, NoNewPrivs is set, effective = permitted = `keep` & permitted, inheritable = none.
int cs_limit_capabilities(uint64_t bounding, uint64_t keep);

/// setgroups([gid]) + setgid + setuid to the user (glibc applies it to every thread; every thread needs
/// CAP_SETUID/CAP_SETGID effective), keeping `keep` on the calling thread (the others lose all).
int cs_switch_user(uid_t uid, gid_t gid, uint64_t keep);

/// Loads a seccomp filter on every thread of the process (TSYNC): the syscalls named in `names` are allowed,
/// any other fails with EPERM (log_only: is allowed and logged by the kernel). Unknown names are skipped
/// (older kernels/headers) and counted in *skipped.
int cs_seccomp_allow(const char *const *names, int count, int log_only, int *skipped);

/// Effective capability mask of this thread (for the log line and tests).
uint64_t cs_effective_capabilities(void);

/// prctl(PR_SET_PDEATHSIG, sig): this process gets `sig` when its parent dies.
int cs_parent_death_signal(int sig);
