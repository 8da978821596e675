// Supervisor.swift: `decnet serve` runs its decoys in child processes and restarts each one when it dies
// (issue 16). Every byte an attacker sends is parsed in a child; a bug that traps there (Swift cannot catch a
// trap) takes down that child and only the deckies of its shard (`--decoy-processes N` children, deckies
// split by a hash of their name); the supervisor brings it back within about a second, then backs off
// (0.5 s doubling to 5 s) while its failures repeat. Five failures of one child within 60 s are reported,
// once, as a crash loop; a child that then runs for 60 s is reported as recovered. SIGTERM/SIGINT/SIGHUP are
// passed on; a clean stop ends the supervisor when every child has ended. Configuration errors (sysexits
// 64...78) are not retried. Children get SIGTERM if the supervisor itself dies (PR_SET_PDEATHSIG).
import CDecnetSystem
#if canImport(Glibc)
import Glibc
#endif

public enum Supervisor {
    public struct Policy: Sendable {
        public var window = 60.0
        public var loopCount = 5
        public var firstBackoff = 0.5
        /// Short on purpose: a request that crashes a child can be repeated; the decoys must stay mostly up.
        public var maxBackoff = 5.0
        public init() {}
    }

    /// Environment marker of a supervised child.
    public static let childMarker = "DECNET_SUPERVISED"

    /// True in a child: it should run the real work (and die with its parent).
    public static var isChild: Bool { ProcessEnvironment.value(childMarker) != nil }

    /// In a child: its shard ("i/N" in DECNET_SHARD), (0, 1) otherwise.
    public static var shard: (index: Int, count: Int) {
        guard let v = ProcessEnvironment.value("DECNET_SHARD") else { return (0, 1) }
        let parts = v.split(separator: "/")
        guard parts.count == 2, let n = CheckedInt.parse(parts[1], in: 1...256), let i = CheckedInt.parse(parts[0], in: 0...(n - 1)) else { return (0, 1) }
        return (i, n)
    }

    /// In a child: ask for SIGTERM when the supervisor goes away (and go now if it already went).
    public static func bindToParent() {
        _ = cs_parent_death_signal(SIGTERM)
        if getppid() == 1 { raise(SIGTERM) }
    }

    static func describe(_ status: Int32) -> String {
        if status & 0x7f == 0 { return "exit status \((status >> 8) & 0xff)" }
        let sig = status & 0x7f
        return "killed by signal \(sig) (\(String(cString: strsignal(sig))))"
    }

    struct Slot {
        var pid: pid_t = 0
        var started = 0.0
        var nextStart = 0.0
        var failures: [Double] = []
        var inLoop = false
        var backoff: Double
        var restarts = 0
        var done = false
    }

    /// Runs `children` copies of this executable (same arguments) as the supervised decoy processes until
    /// they stop cleanly. Returns the exit status for the supervisor.
    public static func run(name: String, children: Int, log: ProcessLog, policy: Policy = Policy()) -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        var slots = [Slot](repeating: Slot(backoff: policy.firstBackoff), count: max(1, children))
        var stopping = false
        var exitCode: Int32 = 0
        func who(_ i: Int) -> String { slots.count > 1 ? "\(name) decoy process \(i + 1)/\(slots.count)" : name }
        while true {
            let now = monotonicSeconds()
            // Start what is due.
            if !stopping {
                for i in slots.indices where slots[i].pid == 0 && !slots[i].done && slots[i].nextStart <= now {
                    guard let pid = spawnChild(shard: i, of: slots.count, restarts: slots[i].restarts) else {
                        log.error("\(who(i)): cannot start: \(String(cString: strerror(errno)))")
                        stopping = true
                        exitCode = 71
                        for s in slots where s.pid > 0 { kill(s.pid, SIGTERM) }
                        break
                    }
                    slots[i].pid = pid
                    slots[i].started = now
                }
            }
            if slots.allSatisfy({ $0.pid == 0 }) && (stopping || slots.allSatisfy(\.done)) { return exitCode }
            // Wait for a signal, a child, or the next start.
            let due = slots.filter { $0.pid == 0 && !$0.done }.map(\.nextStart).min()
            let wait = max(0.01, min(1.0, (due ?? now + 1) - now))
            var info = siginfo_t()
            var ts = timespec(tv_sec: Int(wait), tv_nsec: Int((wait - Double(Int(wait))) * 1e9))
            let sig = sigtimedwait(&set, &info, &ts)
            if sig == SIGTERM || sig == SIGINT {
                stopping = true
                for s in slots where s.pid > 0 { kill(s.pid, sig) }
            } else if sig == SIGHUP {
                for s in slots where s.pid > 0 { kill(s.pid, SIGHUP) }
            }
            // Reap.
            while true {
                var st: Int32 = 0
                let pid = waitpid(-1, &st, WNOHANG)
                guard pid > 0, let i = slots.firstIndex(where: { $0.pid == pid }) else { break }
                slots[i].pid = 0
                let t = monotonicSeconds()
                if stopping { slots[i].done = true; continue }
                let code = (st >> 8) & 0xff
                if st & 0x7f == 0, (64...78).contains(code) {
                    log.error("\(who(i)): refused its configuration (\(describe(st))); not restarting")
                    stopping = true
                    exitCode = code
                    for s in slots where s.pid > 0 { kill(s.pid, SIGTERM) }
                    continue
                }
                if t - slots[i].started >= policy.window { slots[i].backoff = policy.firstBackoff }
                slots[i].failures = slots[i].failures.filter { t - $0 < policy.window } + [t]
                slots[i].restarts += 1
                if slots[i].failures.count >= policy.loopCount && !slots[i].inLoop {
                    slots[i].inLoop = true
                    log.error("\(who(i)): crash loop: \(slots[i].failures.count) failures in \(Int(policy.window)) s (last: \(describe(st))); restarting with back-off up to \(Int(policy.maxBackoff)) s")
                } else {
                    log.error("\(who(i)): died (\(describe(st))); restart \(slots[i].restarts) in \(decimalText(slots[i].backoff, 1)) s")
                }
                slots[i].nextStart = t + slots[i].backoff
                slots[i].backoff = min(policy.maxBackoff, slots[i].backoff * 2)
            }
            // Recovery from a crash loop: up a whole window again.
            for i in slots.indices where slots[i].inLoop && slots[i].pid > 0 && monotonicSeconds() - slots[i].started >= policy.window {
                slots[i].inLoop = false
                slots[i].backoff = policy.firstBackoff
                log.info("\(who(i)): recovered from the crash loop (up \(Int(policy.window)) s)")
            }
        }
    }

    static func spawnChild(shard: Int, of count: Int, restarts: Int) -> pid_t? {
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
        var argv = CommandLine.arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        let ours = [childMarker, "DECNET_SHARD", "DECNET_SUPERVISOR_RESTARTS"]
        var env: [UnsafeMutablePointer<CChar>?] = []
        var e = ProcessEnvironment.block
        while let p = e.pointee {
            let s = String(cString: p)
            if !ours.contains(where: { s.hasPrefix($0 + "=") }) { env.append(strdup(p)) }
            e += 1
        }
        env.append(strdup("\(childMarker)=1"))
        env.append(strdup("DECNET_SHARD=\(shard)/\(count)"))
        env.append(strdup("DECNET_SUPERVISOR_RESTARTS=\(restarts)"))
        env.append(nil)
        defer { for p in env { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", nil, &attr, &argv, &env)
        if rc != 0 { errno = rc; return nil }
        return pid
    }
}
