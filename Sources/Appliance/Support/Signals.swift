#if canImport(Glibc)
import Glibc
#endif

/// Daemons handle SIGINT/SIGTERM (and SIGHUP) synchronously: block them in every thread first (threads
/// created afterwards inherit the mask), then one place `sigwait`s. No async-signal-safety pitfalls.
public enum TerminationSignals {
    static func set(_ signals: [Int32]) -> sigset_t {
        var s = sigset_t()
        sigemptyset(&s)
        for sig in signals { sigaddset(&s, sig) }
        return s
    }

    /// Call before starting any thread.
    public static func block(_ signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) {
        var s = set(signals)
        pthread_sigmask(SIG_BLOCK, &s, nil)
    }

    /// Waits for one of the signals and returns it.
    public static func wait(_ signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) -> Int32 {
        var s = set(signals)
        var sig: Int32 = 0
        sigwait(&s, &sig)
        return sig
    }

    /// The daemon shape: a thread that sigwaits; SIGHUP calls `reopen` (logrotate) and keeps waiting,
    /// SIGINT/SIGTERM call `stop` once and end the thread. Call `block()` first.
    public static func handle(reopen: @escaping @Sendable () -> Void, stop: @escaping @Sendable () -> Void) {
        _ = spawnThread(name: "decnet-signals") {
            while true {
                if wait() == SIGHUP { reopen(); continue }
                stop()
                return
            }
        }
    }
}
