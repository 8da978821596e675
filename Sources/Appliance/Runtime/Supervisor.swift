// Supervisor.swift: `decnet serve` runs its decoys in a child process and restarts it when it dies (issue 16).
// Every byte an attacker sends is parsed in the child; a bug that traps there (Swift cannot catch a trap)
// takes that child down, and the supervisor brings the decoys back within about a second, then backs off
// (0.5 s doubling to 30 s) while failures repeat. Five failures within 60 s are reported, once, as a crash
// loop; a child that then runs for 60 s is reported as recovered. SIGTERM/SIGINT/SIGHUP are passed on; a
// clean stop ends the supervisor with the child's status. Configuration errors (sysexits 64...78) are not
// retried. The child gets SIGTERM if the supervisor itself dies (PR_SET_PDEATHSIG).
import CDecnetSystem
#if canImport(Glibc)
import Glibc
#endif

public enum Supervisor {
    public struct Policy: Sendable {
        public var window = 60.0
        public var loopCount = 5
        public var firstBackoff = 0.5
        public var maxBackoff = 30.0
        public init() {}
    }

    /// Environment marker of the supervised child.
    public static let childMarker = "DECNET_SUPERVISED"

    /// True in the child: it should run the real work (and die with its parent).
    public static var isChild: Bool { getenv(childMarker) != nil }

    /// In the child: ask for SIGTERM when the supervisor goes away (and go now if it already went).
    public static func bindToParent() {
        _ = cs_parent_death_signal(SIGTERM)
        if getppid() == 1 { raise(SIGTERM) }
    }

    static func describe(_ status: Int32) -> String {
        if status & 0x7f == 0 { return "exit status \((status >> 8) & 0xff)" }
        let sig = status & 0x7f
        return "killed by signal \(sig) (\(String(cString: strsignal(sig))))"
    }

    /// Runs this executable again with the same arguments as the supervised child until it stops cleanly.
    /// Returns the exit status for the supervisor.
    public static func run(name: String, log: ProcessLog, policy: Policy = Policy()) -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        var failures: [Double] = []
        var inLoop = false
        var backoff = policy.firstBackoff
        var restarts = 0
        var stopping = false
        while true {
            guard let pid = spawnChild(restarts: restarts) else {
                log.error("\(name): cannot start the decoy process: \(String(cString: strerror(errno)))")
                return 71
            }
            let started = monotonicSeconds()
            var status: Int32 = 0
            // Wait for the child, passing signals on.
            waitLoop: while true {
                var info = siginfo_t()
                var ts = timespec(tv_sec: 1, tv_nsec: 0)
                let sig = sigtimedwait(&set, &info, &ts)
                if sig == SIGTERM || sig == SIGINT { stopping = true; kill(pid, sig) }
                else if sig == SIGHUP { kill(pid, SIGHUP) }
                var st: Int32 = 0
                if waitpid(pid, &st, WNOHANG) == pid { status = st; break waitLoop }
                if inLoop && monotonicSeconds() - started >= policy.window {
                    inLoop = false
                    backoff = policy.firstBackoff
                    log.info("\(name): recovered from the crash loop (up \(Int(policy.window)) s)")
                }
            }
            let clean = status & 0x7f == 0 && (status >> 8) & 0xff == 0
            if stopping || (clean && stopping) { return status & 0x7f == 0 ? (status >> 8) & 0xff : 0 }
            let code = (status >> 8) & 0xff
            if status & 0x7f == 0, (64...78).contains(code) {
                log.error("\(name): the decoy process refused its configuration (\(describe(status))); not restarting")
                return code
            }
            let now = monotonicSeconds()
            if now - started >= policy.window { backoff = policy.firstBackoff }
            failures = failures.filter { now - $0 < policy.window } + [now]
            restarts += 1
            if failures.count >= policy.loopCount && !inLoop {
                inLoop = true
                log.error("\(name): crash loop: \(failures.count) failures in \(Int(policy.window)) s (last: \(describe(status))); restarting with back-off up to \(Int(policy.maxBackoff)) s")
            } else {
                log.error("\(name): the decoy process died (\(describe(status))); restart \(restarts) in \(decimalText(backoff, 1)) s")
            }
            // Back-off, still answering signals.
            let until = monotonicSeconds() + backoff
            while monotonicSeconds() < until {
                var info = siginfo_t()
                let left = max(0.01, until - monotonicSeconds())
                var ts = timespec(tv_sec: Int(left), tv_nsec: Int((left - Double(Int(left))) * 1e9))
                let sig = sigtimedwait(&set, &info, &ts)
                if sig == SIGTERM || sig == SIGINT { return 0 }
            }
            backoff = min(policy.maxBackoff, backoff * 2)
        }
    }

    static func spawnChild(restarts: Int) -> pid_t? {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var deflt = sigset_t()
        sigemptyset(&deflt)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE] { sigaddset(&deflt, s) }
        posix_spawnattr_setsigdefault(&attr, &deflt)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let args = CommandLine.arguments
        var argv = args.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var env: [UnsafeMutablePointer<CChar>?] = []
        var e = environ
        while let p = e.pointee {
            let s = String(cString: p)
            if !s.hasPrefix(childMarker + "=") && !s.hasPrefix("DECNET_SUPERVISOR_RESTARTS=") { env.append(strdup(p)) }
            e += 1
        }
        env.append(strdup("\(childMarker)=1"))
        env.append(strdup("DECNET_SUPERVISOR_RESTARTS=\(restarts)"))
        env.append(nil)
        defer { for p in env { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", nil, &attr, &argv, &env)
        if rc != 0 { errno = rc; return nil }
        return pid
    }
}
