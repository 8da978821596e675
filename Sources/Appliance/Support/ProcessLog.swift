import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

/// Control-plane process logs in the original's shape (spec §9.2):
/// `<PRI>1 <ts µs> <host> <APP> <pid> <logger name> - <message>` on stderr.
/// DEBUG lines print only when DECNET_DEVELOPER=true. Never pass secrets in a message.
public struct ProcessLog: Sendable {
    public enum Level: Int, Sendable { case error = 3, warning = 4, info = 6, debug = 7 }

    public let component: String
    public static let debugEnabled: Bool = {
        guard let v = getenv("DECNET_DEVELOPER") else { return false }
        return String(cString: v).lowercased() == "true"
    }()

    public init(_ component: String) { self.component = component }

    public func error(_ message: @autoclosure () -> String) { emit(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { emit(.warning, message()) }
    public func info(_ message: @autoclosure () -> String) { emit(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) {
        if ProcessLog.debugEnabled { emit(.debug, message()) }
    }

    func emit(_ level: Level, _ message: String) {
        let line = "<\(16 * 8 + level.rawValue)>1 \(iso8601Micro(wallClockSeconds())) \(ProcessLog.hostname) decnet \(getpid()) decnet.\(component) - \(ControlCharacters.escaped(message))"
        stderrLine(line)
    }

    static let hostname: String = {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, 255) == 0 else { return "-" }
        return cString(buf)
    }()
}

/// UTC ISO-8601 with microseconds and `+00:00` (the original's RFC 5424 TIMESTAMP).
public func iso8601Micro(_ epoch: Double) -> String {
    var out: [UInt8] = []
    appendUTCTime(ns: UInt64((max(epoch, 0) * 1e6).rounded()) * 1000, iso: true, into: &out)
    return String(decoding: out, as: UTF8.self)
}
