// MySQLDecoy.swift: a MySQL server that greets with protocol 10 exactly as the claimed version does
// (8.x: caching_sha2_password, utf8mb4; 5.7: mysql_native_password), reads HandshakeResponse41 through a
// bounded cursor, records the user, database, auth plugin, salt + response and client attributes, and
// refuses with MySQL's ERR 1045 text. CLIENT_SSL is not advertised: advertising TLS the decoy cannot do is
// the tell of decoys.md §3.3 (client error 2026). Service keys: `version`.

import Fingerprint

enum MySQLEvents {
    static let failed = DecoyEvents.spec("mysql", "login.failed", ["database", "auth_plugin", "scramble", "client_name", "client_os", "program_name", "anomaly"], credential: true)
    static let anomaly = DecoyEvents.spec("mysql", "protocol.error", ["anomaly", "size"])
    static let all = [DecoyEvents.connect("mysql"), DecoyEvents.closed("mysql"), failed, anomaly]
}

public final class MySQLDecoy: DecoySession {
    public static let definition = DecoyDefinition(
        slug: "mysql", ports: [3306], events: MySQLEvents.all, idleTimeout: 30,     // connect_timeout 10 s + slack
        persona: { "MySQL " + MySQLDecoy.version($0) }, make: { MySQLDecoy($0) })

    static func version(_ info: DecoySessionInfo) -> String { info.config("version") ?? info.distro.mysql }

    // Capability bits (MySQL protocol docs, "Capabilities Flags").
    static let connectWithDB: UInt32 = 0x8, protocol41: UInt32 = 0x200, ssl: UInt32 = 0x800, secureConnection: UInt32 = 0x8000
    static let pluginAuth: UInt32 = 0x8_0000, connectAttrs: UInt32 = 0x10_0000, lenencAuth: UInt32 = 0x20_0000

    let info: DecoySessionInfo
    let version: String
    let modern: Bool
    let salt: [UInt8]
    var buf: [UInt8] = []
    var done = false

    init(_ info: DecoySessionInfo) {
        self.info = info
        version = MySQLDecoy.version(info)
        modern = !version.hasPrefix("5.")
        var g = SystemRandomNumberGenerator()
        // Printable, non-NUL salt bytes as MySQL generates them.
        salt = (0..<20).map { _ in UInt8.random(in: 0x21...0x7e, using: &g) }
    }

    var plugin: String { modern ? "caching_sha2_password" : "mysql_native_password" }

    public func start(_ io: DecoyIO) {
        var rng = info.personaRandom
        let connID = UInt32(8 + rng.below(5000)) &+ UInt32(info.clientPort % 997)
        var p: [UInt8] = [10]
        p += Array(version.utf8) + [0]
        p += le32(connID)
        p += salt[0..<8] + [0]
        let caps: UInt32 = (modern ? 0xdfff_ffff : 0x81ff_f7ff) & ~MySQLDecoy.ssl & ~0x20   // no SSL, no compression
        p += le16(UInt16(caps & 0xffff))
        p.append(modern ? 255 : 33)                                                       // utf8mb4_0900_ai_ci / utf8_general_ci
        p += le16(0x0002)                                                                 // SERVER_STATUS_AUTOCOMMIT
        p += le16(UInt16(caps >> 16))
        p.append(21)
        p += [UInt8](repeating: 0, count: 10)
        p += salt[8..<20] + [0]
        p += Array(plugin.utf8) + [0]
        io.send(packet(p, seq: 0))
    }

    public func end(reason: String, _ io: DecoyIO) {
        if !done && !buf.isEmpty {
            io.emit(info.event(MySQLEvents.anomaly, [("anomaly", "incomplete_handshake"), ("size", String(buf.count))]))
        }
    }

    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        guard !done else { return }
        buf += bytes
        guard buf.count >= 4 else { return }
        let len = Int(buf[0]) | Int(buf[1]) << 8 | Int(buf[2]) << 16
        guard len <= 65536 else { refuse(io, anomaly: "oversize_packet"); return }
        guard buf.count >= 4 + len else { return }
        let payload = Array(buf[4..<(4 + len)])
        done = true
        handshake(payload, seq: buf[3], io)
    }

    func refuse(_ io: DecoyIO, anomaly: String) {
        done = true
        io.emit(info.event(MySQLEvents.anomaly, [("anomaly", anomaly), ("size", String(buf.count))]))
        io.send(error(1043, "08S01", "Bad handshake", seq: 2))
        io.close()
    }

    func handshake(_ p: [UInt8], seq: UInt8, _ io: DecoyIO) {
        var c = ByteCursor(p)
        guard let caps = c.le32(), c.skip(4), c.skip(1), c.skip(23) else { refuse(io, anomaly: "short_handshake"); return }
        if caps & MySQLDecoy.ssl != 0 && p.count == 32 { refuse(io, anomaly: "ssl_request_unoffered"); return }
        guard caps & MySQLDecoy.protocol41 != 0 else { refuse(io, anomaly: "pre_41_client"); return }
        guard let user = c.cstring() else { refuse(io, anomaly: "bad_username"); return }
        var auth: [UInt8] = []
        if caps & MySQLDecoy.lenencAuth != 0 {
            guard let n = c.lenenc(), n <= 1024, let a = c.bytes(Int(n)) else { refuse(io, anomaly: "bad_auth_response"); return }
            auth = a
        } else if caps & MySQLDecoy.secureConnection != 0 {
            guard let n = c.u8(), let a = c.bytes(Int(n)) else { refuse(io, anomaly: "bad_auth_response"); return }
            auth = a
        } else {
            auth = c.cstring() ?? []
        }
        var database = ""
        if caps & MySQLDecoy.connectWithDB != 0, let d = c.cstring() { database = DecoyEvents.printable(d, max: 256) }
        var clientPlugin = ""
        if caps & MySQLDecoy.pluginAuth != 0, let pl = c.cstring() { clientPlugin = DecoyEvents.printable(pl, max: 64) }
        var attrs: [String: String] = [:]
        if caps & MySQLDecoy.connectAttrs != 0, let total = c.lenenc(), total <= 65536, let blob = c.bytes(Int(total)) {
            var a = ByteCursor(blob)
            while a.remaining > 0, attrs.count < 64 {
                guard let kl = a.lenenc(), let k = a.bytes(Int(kl)), let vl = a.lenenc(), let v = a.bytes(Int(vl)) else { break }
                attrs[DecoyEvents.printable(k, max: 64)] = DecoyEvents.printable(v, max: 256)
            }
        }
        let u = DecoyEvents.printable(user, max: 256)
        var f = DecoyEvents.credential(principal: u, username: u, secret: auth, kind: clientPlugin.isEmpty ? plugin : clientPlugin, result: "failed")
        f += [("database", database), ("auth_plugin", clientPlugin), ("scramble", Hex.bytes(salt)),
              ("client_name", attrs["_client_name"] ?? ""), ("client_os", attrs["_os"] ?? ""), ("program_name", attrs["program_name"] ?? "")]
        io.emit(info.event(MySQLEvents.failed, f))
        let msg = "Access denied for user '\(u)'@'\(info.client)' (using password: \(auth.isEmpty ? "NO" : "YES"))"
        io.send(error(1045, "28000", msg, seq: seq &+ 1), after: 0.05)
        io.close(after: 0.05)
    }

    func error(_ code: UInt16, _ state: String, _ message: String, seq: UInt8) -> [UInt8] {
        packet([0xff] + le16(code) + Array("#\(state)".utf8) + Array(message.utf8), seq: seq)
    }

    func packet(_ p: [UInt8], seq: UInt8) -> [UInt8] {
        [UInt8(p.count & 255), UInt8(p.count >> 8 & 255), UInt8(p.count >> 16 & 255), seq] + p
    }

    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 255), UInt8(v >> 8)] }
    func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 255), UInt8(v >> 8 & 255), UInt8(v >> 16 & 255), UInt8(v >> 24)] }
}

/// A bounds-checked reader over attacker bytes: every read says whether the bytes were there.
public struct ByteCursor {
    let b: [UInt8]
    public private(set) var pos = 0
    public init(_ b: [UInt8]) { self.b = b }
    public var remaining: Int { b.count - pos }

    public mutating func u8() -> UInt8? { guard pos < b.count else { return nil }; defer { pos += 1 }; return b[pos] }
    public mutating func skip(_ n: Int) -> Bool { guard n >= 0, remaining >= n else { return false }; pos += n; return true }
    public mutating func bytes(_ n: Int) -> [UInt8]? { guard n >= 0, remaining >= n else { return nil }; defer { pos += n }; return Array(b[pos..<(pos + n)]) }
    public mutating func le32() -> UInt32? {
        guard let x = bytes(4) else { return nil }
        return UInt32(x[0]) | UInt32(x[1]) << 8 | UInt32(x[2]) << 16 | UInt32(x[3]) << 24
    }
    public mutating func cstring() -> [UInt8]? {
        guard let z = b[pos...].firstIndex(of: 0) else { return nil }
        defer { pos = z + 1 }
        return Array(b[pos..<z])
    }
    /// MySQL length-encoded integer.
    public mutating func lenenc() -> UInt64? {
        guard let f = u8() else { return nil }
        switch f {
        case 0..<0xfb: return UInt64(f)
        case 0xfc: guard let x = bytes(2) else { return nil }; return UInt64(x[0]) | UInt64(x[1]) << 8
        case 0xfd: guard let x = bytes(3) else { return nil }; return UInt64(x[0]) | UInt64(x[1]) << 8 | UInt64(x[2]) << 16
        case 0xfe: guard let x = bytes(8) else { return nil }; return x.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        default: return nil
        }
    }
}
