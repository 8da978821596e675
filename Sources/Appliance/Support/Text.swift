// Text.swift: small text and file helpers shared by the commands and the sensor (no Foundation).
#if canImport(Glibc)
import Glibc
#endif

/// Fixed-point decimal text of a non-negative value ("12.345"); negative values print as 0.
public func decimalText(_ v: Double, _ places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let t = Int64((max(v, 0) * scale).rounded())
    let s = Int64(scale)
    guard places > 0 else { return String(t) }
    let frac = String(t % s)
    return "\(t / s)." + String(repeating: "0", count: places - frac.count) + frac
}

/// A whole file, or nil when it cannot be opened (errno set). Reads at most `limit` bytes.
public func readFile(_ path: String, limit: Int) -> [UInt8]? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var data = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while data.count < limit {
        let n = fread(&buf, 1, min(buf.count, limit - data.count), f)
        if n <= 0 { break }
        data += buf[0..<n]
    }
    return data
}

/// UTC time from nanoseconds since the epoch: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (iso: true, the
/// original's RFC 5424 TIMESTAMP) or `YYYY-MM-DD HH:MM:SS` (the collector's JSON `timestamp`).
public func appendUTCTime(ns: UInt64, iso: Bool, into out: inout [UInt8]) {
    var secs = time_t(ns / 1_000_000_000)
    let micros = Int(ns % 1_000_000_000 / 1000)
    var t = tm()
    gmtime_r(&secs, &t)
    func pad(_ v: Int, _ w: Int) {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: w)
        var v = v, i = w - 1
        while i >= 0 { digits[i] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10; i -= 1 }
        out += digits
    }
    pad(Int(t.tm_year) + 1900, 4); out.append(UInt8(ascii: "-"))
    pad(Int(t.tm_mon) + 1, 2); out.append(UInt8(ascii: "-"))
    pad(Int(t.tm_mday), 2); out.append(UInt8(ascii: iso ? "T" : " "))
    pad(Int(t.tm_hour), 2); out.append(UInt8(ascii: ":"))
    pad(Int(t.tm_min), 2); out.append(UInt8(ascii: ":"))
    pad(Int(t.tm_sec), 2)
    if iso {
        out.append(UInt8(ascii: "."))
        pad(micros, 6)
        out += Array("+00:00".utf8)
    }
}

/// mkdir -p with 0750 directories.
@discardableResult
public func makeDirectories(_ path: String) -> Bool {
    var cur = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        cur += "/" + part
        if mkdir(cur, 0o750) != 0 && errno != EEXIST { return false }
    }
    return true
}

/// `mkdir -p` of a file's directory (nothing for a bare name or a path in /).
public func makeParentDirectory(_ path: String) {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
    makeDirectories(String(path[..<slash]))
}

/// Writes `bytes` as the whole file (create/truncate; `mode` also applied to an existing file). False on failure.
@discardableResult
public func writeWholeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    fchmod(fd, mode)
    var off = 0
    while off < bytes.count {
        let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return false }
        off += n
    }
    return true
}

extension StringProtocol {
    /// Drops characters of `set` from both ends.
    public func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
