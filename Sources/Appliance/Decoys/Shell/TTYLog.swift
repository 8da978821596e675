// TTYLog.swift: a session's terminal as an asciicast v2 file (header line, then [time, "o"|"i", text]
// lines), kept beside the decky's artifacts as <artifacts>/<decky>/<service>/tty/<session>.cast and capped
// (10 MiB, as the original's recorder): past the cap events are counted, not written.
#if canImport(Glibc)
import Glibc
#endif

public final class TTYLog {
    public let path: String
    let cap: Int
    let startNs: UInt64
    var fd: Int32
    public private(set) var bytes = 0
    public private(set) var truncated = false

    public init?(root: String?, decky: String, service: String, sessionID: String, width: Int = 80, height: Int = 24, cap: Int = 10 << 20) {
        guard let root else { return nil }
        let dir = "\(root)/\(decky)/\(service)/tty"
        guard makeDirectories(dir) else { return nil }
        path = "\(dir)/\(sessionID).cast"
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        self.cap = cap
        startNs = wallClockNs()
        var h: [UInt8] = []
        JSONValue.object([("version", .number(2)), ("width", .number(Double(width))), ("height", .number(Double(height))),
                          ("timestamp", .number(Double(startNs / 1_000_000_000))),
                          ("env", .object([("TERM", .string("xterm")), ("SHELL", .string("/bin/bash"))]))]).serialize(into: &h)
        h.append(0x0a)
        put(h)
    }

    deinit { if fd >= 0 { close(fd) } }

    public func output(_ b: [UInt8]) { event("o", b) }
    public func input(_ b: [UInt8]) { event("i", b) }

    func event(_ kind: String, _ b: [UInt8]) {
        guard !b.isEmpty, fd >= 0 else { return }
        var line: [UInt8] = [UInt8(ascii: "[")]
        line += Array(decimalText(Double(wallClockNs() - startNs) / 1e9, 6).utf8)
        line += Array(",\"\(kind)\",".utf8)
        JSONWriter.string(String(decoding: b, as: UTF8.self), into: &line)
        line += [UInt8(ascii: "]"), 0x0a]
        put(line)
    }

    func put(_ line: [UInt8]) {
        guard bytes + line.count <= cap else { truncated = true; return }
        line.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = write(fd, p.baseAddress! + off, p.count - off)
                if n < 0 { if errno == EINTR { continue }; break }
                off += n
            }
            bytes += off
        }
    }

    /// Closes the file: (path, bytes, seconds, truncated).
    public func finish() -> (path: String, bytes: Int, duration: Double, truncated: Bool) {
        if fd >= 0 { close(fd); fd = -1 }
        return (path, bytes, Double(wallClockNs() - startNs) / 1e9, truncated)
    }
}
