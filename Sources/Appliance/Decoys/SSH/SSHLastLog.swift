// SSHLastLog.swift: sshd's PrintLastLog (on in Debian's and Ubuntu's sshd). A session that gets a pty records
// the login, per user, as lastlog(8) does; a shell on a pty then prints the user's previous pty login after the
// motd and before the prompt:
//     "Last login: Sun Dec  6 22:58:06 2026 from 10.0.0.5" CR CR LF
// (sshd writes CR LF and the pty's onlcr turns the LF into CR LF; measured against Debian 12's sshd). The first
// login on a decky prints nothing, as on a fresh host; one that never shows it on a second visit is a tell.
// Kept per decky in <artifacts>/.ssh/<decky>/lastlog (user TAB epoch seconds TAB host per line, mode 0600),
// so a restart of serve keeps the history. Bounded: the newest `maxUsers` users are kept.
#if canImport(Glibc)
import Glibc
#endif

final class SSHLastLog {
    struct Entry: Equatable { var time: Int; var host: String }
    static let maxUsers = 1024

    private(set) var entries: [String: Entry] = [:]
    let path: String?

    init(path: String?) {
        self.path = path
        guard let path, let data = readFile(path, limit: 1 << 20) else { return }
        for line in data.split(separator: 0x0a) {
            let f = line.split(separator: 0x09, omittingEmptySubsequences: false)
            guard f.count == 3, let t = Int(String(decoding: f[1], as: UTF8.self)) else { continue }
            entries[String(decoding: f[0], as: UTF8.self)] = Entry(time: t, host: String(decoding: f[2], as: UTF8.self))
        }
    }

    /// Records a pty login and returns the user's previous one (nil for the first).
    func record(user: String, host: String, time: Int) -> Entry? {
        let key = clean(user)
        let previous = entries[key]
        entries[key] = Entry(time: time, host: clean(host))
        if entries.count > SSHLastLog.maxUsers, let oldest = entries.min(by: { $0.value.time < $1.value.time })?.key {
            entries[oldest] = nil
        }
        save()
        return previous
    }

    /// The line sshd prints for a previous login, in the host's local time as ctime(3) shows it.
    static func message(_ e: Entry) -> String {
        var secs = time_t(e.time)
        var t = tm()
        localtime_r(&secs, &t)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%a %b %e %H:%M:%S %Y", &t)
        return "Last login: \(String(decoding: buf.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)) from \(e.host)\r\r\n"
    }

    /// Tabs and line ends cannot enter the file (user names arrive from the network).
    private func clean(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.prefix(256).map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? "?" : $0 }))
    }

    private func save() {
        guard let path else { return }
        var text = ""
        for (u, e) in entries.sorted(by: { $0.key < $1.key }) { text += "\(u)\t\(e.time)\t\(e.host)\n" }
        let tmp = "\(path).tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; break }
            off += n
        }
        let ok = off == bytes.count      // no fsync: this runs on the event loop, and a lost line costs nothing
        close(fd)
        if !ok || rename(tmp, path) != 0 { unlink(tmp) }
    }

    /// Without an artifacts directory (tests) the book lives in memory only.
    static func shared(_ info: DecoySessionInfo) -> DeckyShared<SSHLastLog> {
        info.states.get(decky: info.decky.name, service: "ssh-lastlog") {
            SSHLastLog(path: info.artifactsDir.map { SSHHostKeys.directory(decky: info.decky.name, artifactsDir: $0) + "/lastlog" })
        }
    }
}
