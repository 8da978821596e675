// ProcessLimits.swift: what every daemon does to itself at start-up.
#if canImport(Glibc)
import Glibc
#endif

public enum ProcessLimits {
    /// Raises RLIMIT_NOFILE's soft limit to the hard limit (with the usual 1024, ~1000 idle sockets locked out
    /// the API or every decky at once). The line for the log is kept in `StartupNotes` and logged once the
    /// daemon is up (a command that fails on bad input still prints one line). Returns the soft limit.
    @discardableResult
    public static func raiseDescriptorLimit() -> Int {
        let log = StartupNotes.shared
        var rl = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl) == 0 else {
            log.warning("open files limit: getrlimit failed: \(String(cString: strerror(errno)))")
            return 1024
        }
        let before = rl.rlim_cur
        if rl.rlim_cur < rl.rlim_max {
            rl.rlim_cur = rl.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl) != 0 {
                log.warning("open files limit: could not raise \(before) to \(rl.rlim_max): \(String(cString: strerror(errno)))")
                return Int(clamping: before)
            }
        }
        log.info("open files limit: \(rl.rlim_cur) (was \(before), hard \(rl.rlim_max))")
        return Int(clamping: rl.rlim_cur)
    }
}

/// Lines a daemon logs once it is up (not before its input was checked).
public final class StartupNotes: @unchecked Sendable {
    public static let shared = StartupNotes()
    private var lines: [(ProcessLog.Level, String)] = []
    private let lock = ConditionMutex()
    public func info(_ m: String) { lock.withLock { lines.append((.info, m)) } }
    public func warning(_ m: String) { lock.withLock { lines.append((.warning, m)) } }
    /// Logs what was kept, once.
    public func flush(to log: ProcessLog) {
        for (level, m) in lock.withLock({ defer { lines.removeAll() }; return lines }) {
            if level == .warning { log.warning(m) } else { log.info(m) }
        }
    }
}
