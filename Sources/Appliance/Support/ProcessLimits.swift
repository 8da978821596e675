// ProcessLimits.swift: what every daemon does to itself at start-up.
#if canImport(Glibc)
import Glibc
#endif

public enum ProcessLimits {
    /// Raises RLIMIT_NOFILE's soft limit to the hard limit (with the usual 1024, ~1000 idle sockets locked out
    /// the API or every decky at once) and logs the value once. Returns the soft limit now in force.
    @discardableResult
    public static func raiseDescriptorLimit(log: ProcessLog) -> Int {
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
