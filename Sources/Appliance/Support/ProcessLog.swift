// ProcessLog.swift: RFC 5424 process log lines on stderr, and the swift-log handler that writes them.
import Fingerprint
import Logging
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// Control-plane process logs in the original's shape (spec §9.2):
/// `<PRI>1 <ts µs> <host> <APP> <pid> <logger name> - <message>` on stderr.
/// DEBUG lines print only when DECNET_DEVELOPER=true. Never pass secrets in a message.
public struct ProcessLog: Sendable {
    public enum Level: Int, Sendable { case error = 3, warning = 4, info = 6, debug = 7 }

    public let component: String
    /// Read once (the first log line comes after the command installed its configuration): a debug call on a
    /// hot path (the broker's drop counter) costs one load, not a configuration lookup.
    public static let debugEnabled: Bool = DecnetConfiguration.current.developer

    public init(_ component: String) { self.component = component }

    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) {
        if ProcessLog.debugEnabled { log(.debug, message()) }
    }

    /// Through swift-log once the process bootstrapped it (`ProcessLogHandler.bootstrap()`), so one backend
    /// carries every line (ours, NIO's, Hummingbird's, ServiceLifecycle's); straight to stderr before that
    /// (tests, fuzzing) in the same shape.
    func log(_ level: Level, _ message: String) {
        guard ProcessLogHandler.bootstrapped.withLockedValue({ $0 }) else { return emit(level, message) }
        let l: Logger.Level = switch level { case .error: .error; case .warning: .warning; case .info: .info; case .debug: .debug }
        Logger(label: "decnet.\(component)").log(level: l, "\(message)")
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

/// swift-log's backend for the whole process: the same RFC 5424 line as `ProcessLog`, so NIO, Hummingbird,
/// ServiceLifecycle and our own code log one way. `LoggingSystem.bootstrap(ProcessLogHandler.init)` once at start.
public struct ProcessLogHandler: LogHandler {
    static let bootstrapped = NIOLockedValueBox(false)

    /// Installs this handler as the process's swift-log backend (once, at start).
    public static func bootstrap() {
        LoggingSystem.bootstrap(ProcessLogHandler.init)
        bootstrapped.withLockedValue { $0 = true }
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String) {
        self.label = label.hasPrefix("decnet.") ? String(label.dropFirst(7)) : label
        logLevel = ProcessLog.debugEnabled ? .debug : .info
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level: ProcessLog.Level
        switch event.level {
        case .trace, .debug: level = .debug
        case .info, .notice: level = .info
        case .warning: level = .warning
        case .error, .critical: level = .error
        }
        var text = "\(event.message)"
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        if !all.isEmpty {
            text += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        ProcessLog(label).emit(level, text)
    }
}

extension Logger {
    /// A logger for one decnet component (`decnet.<component>` in the RFC 5424 line).
    public static func decnet(_ component: String) -> Logger { Logger(label: "decnet.\(component)") }
}
