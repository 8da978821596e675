// Confinement.swift: least privilege for every daemon (issue 16). After set-up (sockets bound, store open,
// capture handle open) a daemon calls `Confinement.apply(role)`:
//   - api, bus, profiler, mutator: become the `decnet` user (DECNET_USER) with no capability; the files they
//     keep using (the store and its lock, the bus socket) are handed to that user first (0660, group decnet).
//   - sensor: stays uid 0 with CAP_NET_RAW only (CAP_NET_ADMIN was needed while opening the capture).
//   - decoys (`serve`): stays uid 0 with what entering and building namespaces and binding low ports takes:
//     CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE.
//   - every one: NoNewPrivs, and a seccomp allow-list (anything else fails with EPERM) on every thread.
// Without a `decnet` user the user switch is skipped (logged) and the rest still applies. The README's
// "Privileges" table is the contract; Tests/Integration/privileges.sh reads /proc/<pid>/status against it.
import CDecnetSystem
#if canImport(Glibc)
import Glibc
#endif

public enum DaemonRole: String, Sendable {
    case api, bus, profiler, mutator, sensor, decoys
    /// `decnet up`: every part in one process: what the decoys take (which covers the sensor's CAP_NET_RAW).
    case appliance

    /// Runs as the unprivileged user when one exists.
    var switchesUser: Bool { [.api, .bus, .profiler, .mutator].contains(self) }

    public var capabilities: [Int32] {
        switch self {
        case .api, .bus, .profiler, .mutator: return []
        case .sensor: return [Int32(CS_CAP_NET_RAW)]
        case .decoys, .appliance: return [Int32(CS_CAP_SYS_ADMIN), Int32(CS_CAP_NET_ADMIN), Int32(CS_CAP_NET_RAW), Int32(CS_CAP_NET_BIND_SERVICE)]
        }
    }
}

public enum Confinement {
    /// What a Swift process with NIO, SQLite, threads and child processes uses. Not here on purpose: ptrace,
    /// process_vm_*, bpf, perf_event_open, kexec/module calls, keyctl, mount/setns/unshare (decoys only),
    /// chroot/pivot_root, set*uid/set*gid (after the switch), reboot, swap, clock setting, io_uring, userfaultfd.
    static let base: [String] = [
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
        "open", "openat", "openat2", "close", "close_range", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
        "lseek", "mmap", "mprotect", "munmap", "mremap", "madvise", "msync", "mincore", "brk",
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait", "rt_sigsuspend",
        "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "ioctl", "access", "faccessat", "faccessat2",
        "pipe", "pipe2", "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
        "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
        "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_getscheduler", "getpriority",
        "dup", "dup2", "dup3", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
        "getitimer", "setitimer", "alarm", "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
        "getresuid", "getresgid", "getgroups", "getpgrp", "getpgid", "getsid", "setsid", "setpgid",
        "socket", "socketpair", "connect", "accept", "accept4", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
        "recvmmsg", "shutdown", "bind", "listen", "getsockname", "getpeername", "setsockopt", "getsockopt",
        "fcntl", "flock", "fsync", "fdatasync", "sync_file_range", "ftruncate", "truncate", "getdents", "getdents64", "getcwd",
        "chdir", "fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat",
        "link", "linkat", "symlink", "symlinkat", "readlink", "readlinkat", "chmod", "fchmod", "fchmodat", "fchown",
        "umask", "utimensat", "utimes", "getrlimit", "setrlimit", "prlimit64", "getrusage", "sysinfo", "times", "uname",
        "prctl", "arch_prctl", "futex", "futex_waitv", "set_robust_list", "get_robust_list", "set_tid_address", "rseq",
        "clone", "clone3", "vfork", "fork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
        "kill", "tgkill", "tkill", "getrandom", "memfd_create", "fallocate", "fadvise64", "sendfile", "splice", "tee",
        "copy_file_range", "membarrier", "restart_syscall", "getcpu", "getxattr", "lgetxattr", "fgetxattr",
        "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "capget", "mlock", "munlock", "fstatat64",
        // libdispatch (signal sources, QoS), Foundation's file attributes.
        "signalfd", "signalfd4", "setpriority", "sched_setparam", "sched_setscheduler", "sched_get_priority_max",
        "sched_get_priority_min", "ioprio_get", "ioprio_set", "listxattr", "llistxattr", "flistxattr", "pause",
        // Adding a filter can only narrow what is allowed (the supervised decoy process confines itself again).
        "seccomp",
    ]

    static func syscalls(_ role: DaemonRole) -> [String] {
        switch role {
        // Building and entering namespaces (also in the `ip` children, which inherit the filter), UTS names.
        case .decoys, .appliance: return base + ["setns", "unshare", "mount", "umount2", "sethostname", "setdomainname", "capset", "chown", "lchown", "fchownat"]
        default: return base
        }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public var uid: uid_t
        public var capabilities: UInt64
        public var syscalls: Int
        public var skipped: Int
        public var userNote: String?
        public var description: String {
            "confined: uid=\(uid) capabilities=0x\(String(capabilities, radix: 16)) no_new_privs=1 seccomp=\(syscalls - skipped) syscalls allowed"
                + (userNote.map { " (\($0))" } ?? "")
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The unprivileged user's uid/gid (DECNET_USER, default `decnet`), nil when absent.
    public static func serviceUser() -> (name: String, uid: uid_t, gid: gid_t)? {
        let name = DecnetConfiguration.current.serviceUser
        guard let pw = getpwnam(name) else { return nil }
        return (name, pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    /// Applies the role's confinement. `shared` are files the daemon keeps using after the switch (the store,
    /// its WAL/SHM, lock files, the bus socket): handed to the service user when this daemon becomes it.
    @discardableResult
    public static func apply(_ role: DaemonRole, shared: [String] = []) throws -> Report {
        let log = StartupNotes.shared
        if DecnetConfiguration.current.unconfined {
            log.warning("DECNET_UNCONFINED=1 (privileges.unconfined): running with every privilege this process was started with (development only)")
            return Report(uid: geteuid(), capabilities: cs_effective_capabilities(), syscalls: 0, skipped: 0, userNote: "unconfined")
        }
        let keep = role.capabilities.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) }
        var note: String? = nil
        if geteuid() == 0 {
            let user = serviceUser()
            if role.switchesUser {
                if let user {
                    for p in shared + shared.flatMap({ [$0 + "-wal", $0 + "-shm"] }) {
                        var st = stat()
                        guard stat(p, &st) == 0 else { continue }
                        // Regular files become the service user's (0660, its group: root daemons join it);
                        // a socket keeps the group and mode `decnet bus --group` gave it.
                        let regular = (st.st_mode & S_IFMT) == S_IFREG
                        if chown(p, user.uid, regular ? user.gid : gid_t.max) != 0 {
                            throw Failure(description: "chown \(p) to \(user.name): \(String(cString: strerror(errno)))")
                        }
                        if regular { chmod(p, 0o660) }
                    }
                    // Bounding sets first, everywhere, while every thread is still root; SETUID/SETGID stay
                    // effective for the switch itself and go with it.
                    let switching = keep | (1 << UInt64(CS_CAP_SETUID)) | (1 << UInt64(CS_CAP_SETGID))
                    var rc = cs_limit_capabilities(keep, switching)
                    if rc != 0 { throw Failure(description: "limiting capabilities: \(String(cString: strerror(-rc)))") }
                    rc = cs_switch_user(user.uid, user.gid, keep)
                    if rc != 0 { throw Failure(description: "switching to user \(user.name): \(String(cString: strerror(-rc)))") }
                } else {
                    note = "no user \(DecnetConfiguration.current.serviceUser): uid 0 without capabilities"
                }
            } else if let user {
                // Root daemons join the service group: the store the API handed to it stays writable (0660).
                // (A supervised child inherits the group from its supervisor, which already set it.)
                var current = [gid_t](repeating: 0, count: 64)
                let n = getgroups(64, &current)
                if n < 0 || !current.prefix(Int(n)).contains(user.gid) {
                    var groups: [gid_t] = [0, user.gid]
                    if setgroups(2, &groups) != 0 { throw Failure(description: "setgroups: \(String(cString: strerror(errno)))") }
                }
            }
        }
        var rc = cs_limit_capabilities(keep, keep)
        if rc != 0 { throw Failure(description: "limiting capabilities: \(String(cString: strerror(-rc)))") }
        rc = cs_no_new_privs()
        if rc != 0 { throw Failure(description: "no_new_privs: \(String(cString: strerror(-rc)))") }
        let names = syscalls(role)
        var skipped: Int32 = 0
        // DECNET_SECCOMP_LOG=1 (maintainers): log instead of refusing, to find a syscall the list lacks
        // (the kernel writes "audit: type=1326 ... syscall=N" to the kernel log).
        let logOnly = DecnetConfiguration.current.seccompLogOnly
        rc = withArrayOfCStrings(names) { ptrs in cs_seccomp_allow(ptrs, Int32(names.count), logOnly ? 1 : 0, &skipped) }
        if rc != 0 { throw Failure(description: "seccomp: \(String(cString: strerror(-rc)))") }
        let report = Report(uid: geteuid(), capabilities: cs_effective_capabilities(), syscalls: names.count, skipped: Int(skipped), userNote: note)
        log.info(report.description)
        return report
    }

    static func withArrayOfCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let dup = strings.map { strdup($0) }
        defer { dup.forEach { free($0) } }
        let ptrs = dup.map { UnsafePointer($0) }
        return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
