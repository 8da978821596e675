// TLSDecoy.swift: TLS in front of a plaintext decoy session, on OpenSSL (the library the claimed servers
// link on Debian/Ubuntu, so cipher order, extensions and JA3S look like theirs, not like BoringSSL's).
// Records go through memory buffers (dc_tls_server.h): the wrapped session never knows it is encrypted,
// and delays, timers and closes keep their order. The `https` decoy is the HTTP decoy behind it. Each
// decky has its own snakeoil-style certificate (CN = hostname), made once and kept under
// <artifacts>/.tls/<decky>.pem so a restart does not change it.
import CDecoyCrypto
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

enum TLSEvents {
    static func handshake(_ s: String) -> EventSpec { DecoyEvents.spec(s, "tls.handshake", ["tls_version", "cipher", "sni", "alpn", "ja3", "ja4"]) }
    static func error(_ s: String) -> EventSpec { DecoyEvents.spec(s, "tls.error", ["reason", "bytes"]) }
}

/// A decky's TLS context (key + certificate), shared by its connections.
final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer?
    let error: String

    init(decky: DeckySpec, artifactsDir: String?) {
        let dir = (artifactsDir ?? TLSContext.scratch) + "/.tls"
        makeDirectories(dir)
        var err = [CChar](repeating: 0, count: 256)
        ctx = dc_tls_ctx_open("\(dir)/\(decky.name).pem", decky.hostname.lowercased(), &err, 256)
        error = cString(err)
    }

    deinit { dc_tls_ctx_free(ctx) }

    /// Without an artifacts directory (tests) keys go to a private per-process directory.
    static let scratch: String = {
        var t = Array("/tmp/decnet-tls-XXXXXX".utf8CString)
        return t.withUnsafeMutableBufferPointer { b in mkdtemp(b.baseAddress!).map { String(cString: $0) } ?? "/tmp" }
    }()

    static func shared(_ info: DecoySessionInfo) -> TLSContext { shared(decky: info.decky, artifactsDir: info.artifactsDir, states: info.states) }

    static func shared(decky: DeckySpec, artifactsDir: String?, states: DeckyStates) -> TLSContext {
        states.get(decky: decky.name, service: "tls") { TLSContext(decky: decky, artifactsDir: artifactsDir) }.value
    }
}

public final class TLSDecoy: DecoySession {
    public static let https = DecoyDefinition(
        slug: "https", ports: [443], events: HTTPEvents.https.all + [TLSEvents.handshake("https"), TLSEvents.error("https")],
        idleTimeout: 75, persona: { HTTPDecoy.serverHeader($0) },
        make: { TLSDecoy($0, inner: HTTPDecoy($0)) },
        prepare: { decky, dir, states in
            let c = TLSContext.shared(decky: decky, artifactsDir: dir, states: states)
            return c.ctx == nil ? "no TLS context, handshakes will fail: \(c.error)" : nil
        })

    let info: DecoySessionInfo
    let context: TLSContext
    let tls: OpaquePointer?
    let inner: DecoySession
    let innerIO = DecoyIO()
    var started = false
    var failed = false
    /// The client's first bytes (until its ClientHello is whole), for JA3/JA4.
    var hello: [UInt8] = []
    var scratch = [UInt8](repeating: 0, count: 16_384)

    init(_ info: DecoySessionInfo, inner: DecoySession) {
        self.info = info
        context = TLSContext.shared(info)
        tls = context.ctx.flatMap { dc_tls_new($0) }
        self.inner = inner
    }

    deinit { dc_tls_free(tls) }

    public func start(_ io: DecoyIO) {
        if tls == nil {
            io.emit(info.event(TLSEvents.error(info.service), [("reason", "no TLS context: \(context.error)"), ("bytes", "0")]))
            io.close()
            failed = true
        }
    }

    public func end(reason: String, _ io: DecoyIO) {
        if started { inner.end(reason: reason, innerIO); pump(io) }
    }

    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        guard let tls, !failed else { return }
        if !started && hello.count < 16_384 { hello += bytes.prefix(16_384 - hello.count) }
        _ = bytes.withUnsafeBytes { dc_tls_feed(tls, $0.baseAddress, $0.count) }
        while true {
            let n = scratch.withUnsafeMutableBytes { dc_tls_read(tls, $0.baseAddress, $0.count) }
            if !started && dc_tls_handshake_done(tls) != 0 {
                started = true
                io.emit(info.event(TLSEvents.handshake(info.service), [
                    ("tls_version", String(cString: dc_tls_version(tls))), ("cipher", String(cString: dc_tls_cipher(tls))),
                    ("sni", DecoyEvents.printable(Array(String(cString: dc_tls_sni(tls)).utf8), max: 255)),
                    ("alpn", String(cString: dc_tls_alpn(tls)))] + clientFingerprints()))
                hello = []
                innerIO.wake = { [weak self, weak io] in
                    guard let self, let io else { return }
                    self.pump(io)
                    io.wake?()
                }
                inner.start(innerIO)
            }
            if n > 0 {
                inner.receive(Array(scratch[0..<Int(n)]), innerIO)
                continue
            }
            if n == -1 {
                failed = true
                io.emit(info.event(TLSEvents.error(info.service), [("reason", String(cString: dc_tls_error(tls))), ("bytes", String(bytes.count))]))
                sendPending(io)                      // the alert
                io.close()
                return
            }
            if n == -2 { sendPending(io); io.close(); return }
            break
        }
        pump(io)
    }

    /// JA3 and JA4 of the ClientHello carried by the first handshake records.
    func clientFingerprints() -> [(String, String)] {
        var msg: [UInt8] = []
        var i = 0
        while i + 5 <= hello.count, hello[i] == 22 {                                 // handshake records
            let len = Int(hello[i + 3]) << 8 | Int(hello[i + 4])
            guard i + 5 + len <= hello.count else { break }
            msg += hello[(i + 5)..<(i + 5 + len)]
            i += 5 + len
            if msg.count >= 4, msg.count >= 4 + (Int(msg[1]) << 16 | Int(msg[2]) << 8 | Int(msg[3])) { break }
        }
        guard msg.first == 1, let h = TLSHello(clientHelloMessage: msg) else { return [] }
        return [("ja3", JA3(h).hash), ("ja4", JA4(h).hash)]
    }

    /// Encrypts what the inner session queued, keeping delays, timers and closes in order.
    func pump(_ io: DecoyIO) {
        guard let tls else { return }
        sendPending(io)
        let (outs, evs) = innerIO.drain()
        for e in evs { io.emit(e) }
        for o in outs {
            switch o {
            case .bytes(let b, let d):
                _ = b.withUnsafeBytes { dc_tls_write(tls, $0.baseAddress, $0.count) }
                io.send(takeOutput(), after: d)
            case .close(let d):
                dc_tls_close_notify(tls)
                io.send(takeOutput(), after: d)
                io.close()
            case .call(let d, let body):
                io.after(d) { [weak self] in body(); self?.pump(io) }
            }
        }
    }

    func sendPending(_ io: DecoyIO) {
        let out = takeOutput()
        if !out.isEmpty { io.send(out) }
    }

    func takeOutput() -> [UInt8] {
        guard let tls else { return [] }
        var out: [UInt8] = []
        while true {
            let n = scratch.withUnsafeMutableBytes { dc_tls_drain(tls, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += scratch[0..<Int(n)]
        }
        return out
    }
}
