// SSHDecoy.swift: the `ssh` decoy: an OpenSSH persona (SSHPersona) on our own transport (SSHTransport),
// user authentication (RFC 4252) and the connection protocol (RFC 4254) in front of the FakeShell.
//
// Authentication is Debian's default sshd: methods "publickey,password" (no keyboard-interactive), every
// attempt recorded (password printable + base64; publickey type + SHA256 fingerprint), acceptance from the
// service key `accept` (CredentialPolicy: fixed pairs, `after:N`, `any`, `never`; default root:admin and
// admin:admin), a failed password answered after pam_unix's 2 s delay, MaxAuthTries 6 then
// "Too many authentication failures". Public keys are never accepted (the attacker's key is not ours).
// Sessions: pty-req, env, window-change, shell, exec, subsystem sftp, scp -t / -f (SSHChannel.swift).
import CDecoyCrypto
import Fingerprint

enum SSHEvents {
    static let version = DecoyEvents.spec("ssh", "client.version", ["client_banner"])
    static let kex = DecoyEvents.spec("ssh", "client.kex", ["client_banner", "server_banner", "hassh", "hassh_algorithms",
                                                           "hassh_server", "hassh_server_algorithms", "kex", "host_key",
                                                           "encryption", "mac", "compression", "strict_kex"])
    static let success = DecoyEvents.spec("ssh", "login.success", ["method", "key_type", "key_fingerprint"], credential: true)
    static let failed = DecoyEvents.spec("ssh", "login.failed", ["method", "key_type", "key_fingerprint"], credential: true)
    static let command = DecoyEvents.spec("ssh", "command.input", ["input", "cwd", "channel", "truncated"])
    static let download = DecoyEvents.spec("ssh", "session.file_download", ["url"])
    static let upload = DecoyEvents.spec("ssh", "session.file_upload", ["filename", "size", "received", "truncated", "sha256", "stored_as", "via", "limited_by"])
    static let clientVar = DecoyEvents.spec("ssh", "client.var", ["name", "value"])
    static let size = DecoyEvents.spec("ssh", "client.size", ["width", "height", "term"])
    static let forward = DecoyEvents.spec("ssh", "direct-tcpip.request", ["dst_host", "dst_port", "orig_host", "orig_port"])
    static let tty = DecoyEvents.spec("ssh", "tty.closed", ["ttylog", "size", "duration_s", "truncated"])
    static let anomaly = DecoyEvents.spec("ssh", "protocol.anomaly", ["kind", "detail"], severity: .warning)
    static let disconnect = DecoyEvents.spec("ssh", "client.disconnect", ["code", "reason"])
    static let all = [DecoyEvents.connect("ssh"), DecoyEvents.closed("ssh"), version, kex, success, failed, command, download,
                      upload, clientVar, size, forward, tty, anomaly, disconnect]
}

public final class SSHDecoy: DecoySession {
    public static let definition = DecoyDefinition(
        slug: "ssh", ports: [22], events: SSHEvents.all, idleTimeout: 600,
        persona: { SSHPersona.for($0.decky).product }, make: { SSHDecoy($0) },
        prepare: { decky, dir, states in
            _ = SSHModuli.shared
            let keys = SSHHostKeys.shared(decky: decky.name, artifactsDir: dir, states: states)
            return keys.error.isEmpty ? nil : "host keys not offered: \(keys.error)"
        },
        checkConfig: { kv in
            guard let p = kv["persona"], SSHPersona.named(p) == nil else { return [] }
            return ["unknown ssh persona '\(p)' (known: \(SSHPersona.all.map(\.slug).joined(separator: ", ")))"]
        },
        // uploads stream to disk (8 MiB kept per file, the rest counted): a large scp is not cut off mid-way
        maxSessionBytes: 1 << 30)

    let info: DecoySessionInfo
    let persona: SSHPersona
    let transport: SSHTransport
    let policy: CredentialPolicy
    /// The decky as the shell shows it: the persona's distro, so uname/os-release agree with the banner.
    let shellDecky: DeckySpec
    var io: DecoyIO!
    var serviceAccepted = false
    var user: String?
    var failures = 0
    var attempts = 0
    var channels: [UInt32: SSHChannel] = [:]
    var nextChannel: UInt32 = 0
    static let maxSessions = 10

    init(_ info: DecoySessionInfo) {
        self.info = info
        persona = SSHPersona.for(info.decky)
        transport = SSHTransport(persona: persona, hostKeys: SSHHostKeys.shared(info), info: info)
        policy = CredentialPolicy(info.config("accept"), default: .fixed([("root", "admin"), ("admin", "admin")]))
        var d = info.decky
        if d.distroProfile.slug != persona.distro && DistroProfile.named(persona.distro)?.id != d.distroProfile.id { d.distro = persona.distro }
        shellDecky = d
        transport.onPayload = { [unowned self] p, seq in self.payload(p, seq: seq) }
        transport.onClientVersion = { [unowned self] v in
            self.io.emit(self.info.event(SSHEvents.version, [("client_banner", v)]))
        }
        transport.onClientKex = { [unowned self] lists, n in self.kexEvent(lists, n) }
    }

    public func start(_ io: DecoyIO) {
        bind(io)
        transport.start()
    }

    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        bind(io)
        transport.receive(bytes)
    }

    public func end(reason: String, _ io: DecoyIO) {
        bind(io)
        for c in channels.values { c.ended() }
        channels.removeAll()
    }

    func bind(_ io: DecoyIO) {
        self.io = io
        transport.io = io
    }

    func kexEvent(_ lists: [[String]], _ n: SSHTransport.Negotiated) {
        let client = HASSH(client: KexInit(lists: lists.map { $0.joined(separator: ",") }))
        let server = persona.hasshServer
        io.emit(info.event(SSHEvents.kex, [
            ("client_banner", transport.clientVersion ?? ""), ("server_banner", persona.banner),
            ("hassh", client.hash), ("hassh_algorithms", String(client.algorithms.prefix(2048))),
            ("hassh_server", server.hash), ("hassh_server_algorithms", server.algorithms),
            ("kex", n.kex), ("host_key", n.hostKey), ("encryption", n.encC2S), ("mac", n.macC2S),
            ("compression", n.compC2S), ("strict_kex", transport.strict ? "true" : "false"),
        ]))
    }

    // MARK: dispatch

    func payload(_ p: [UInt8], seq: UInt32) {
        var r = SSHReader(p, offset: 1)
        do {
            switch p[0] {
            case SSHMsg.serviceRequest:
                let name = try r.text(max: 64)
                guard name == "ssh-userauth", !serviceAccepted else {
                    transport.fail("unexpected_message", "service request \(DecoyEvents.printable(Array(name.utf8), max: 64))",
                                   disconnectCode: SSHDisconnect.serviceNotAvailable)
                    return
                }
                serviceAccepted = true
                var w = SSHWriter(SSHMsg.serviceAccept)
                w.string(name)
                transport.send(w.bytes)
            case SSHMsg.userauthRequest:
                guard serviceAccepted else { transport.fail("unexpected_message", "authentication before ssh-userauth was accepted"); return }
                if user != nil { return }                  // sshd ignores requests after success
                try auth(&r)
            case SSHMsg.globalRequest:
                _ = try r.text(max: 256)
                if try r.bool() { transport.send([SSHMsg.requestFailure]) }
            case SSHMsg.channelOpen...SSHMsg.channelFailure:
                guard user != nil else { transport.fail("unexpected_message", "channel message \(p[0]) before authentication"); return }
                try channelMessage(p[0], &r)
            default:
                var w = SSHWriter(SSHMsg.unimplemented)
                w.u32(seq)
                transport.send(w.bytes)
            }
        } catch {
            transport.fail("malformed_message", "message \(p[0]): \(error)")
        }
    }

    // MARK: authentication (RFC 4252)

    static let methods = ["publickey", "password"]

    func failure(after delay: Double = 0) {
        var w = SSHWriter(SSHMsg.userauthFailure)
        w.nameList(SSHDecoy.methods)
        w.bool(false)
        transport.send(w.bytes, after: delay)
    }

    func auth(_ r: inout SSHReader) throws {
        let userBytes = Array(try r.string(max: 1024))
        let service = try r.text(max: 64)
        let method = try r.text(max: 64)
        let name = DecoyEvents.printable(userBytes, max: 256)
        guard service == "ssh-connection" else {
            transport.fail("unexpected_message", "authentication for service \(DecoyEvents.printable(Array(service.utf8), max: 64))",
                           disconnectCode: SSHDisconnect.serviceNotAvailable)
            return
        }
        switch method {
        case "none":
            failure()
            return
        case "password":
            let change = try r.bool()
            let secret = Array(try r.string(max: 1024))
            if change { _ = try? r.string(max: 1024) }
            attempts += 1
            if !change && policy.accepts(user: name, password: secret, attempt: attempts) {
                io.emit(info.event(SSHEvents.success, DecoyEvents.credential(principal: name, username: name, secret: secret, result: "success") + [("method", "password")]))
                succeed(name)
                return
            }
            io.emit(info.event(SSHEvents.failed, DecoyEvents.credential(principal: name, username: name, secret: secret, result: "failed") + [("method", "password")]))
            failed(delay: persona.failDelay)
        case "publickey":
            _ = try r.bool()                               // has a signature: refused either way
            let alg = try r.text(max: 128)
            let blob = Array(try r.string(max: 16_384))
            let fp = sshFingerprint(blob)
            io.emit(info.event(SSHEvents.failed, DecoyEvents.credential(principal: name, username: name, secret: Array(fp.utf8), kind: "publickey", result: "failed")
                               + [("method", "publickey"), ("key_type", DecoyEvents.printable(Array(alg.utf8), max: 128)), ("key_fingerprint", fp)]))
            failed(delay: 0)
        default:
            // keyboard-interactive, hostbased, gssapi-*: not offered by this server.
            failed(delay: 0)
        }
    }

    func failed(delay: Double) {
        failures += 1
        if failures >= persona.maxAuthTries {
            transport.disconnect(SSHDisconnect.protocolError, "Too many authentication failures", after: delay)
            return
        }
        failure(after: delay)
    }

    func succeed(_ name: String) {
        user = name
        transport.send([SSHMsg.userauthSuccess])
        transport.authenticated()
        // sshd then announces its host keys (UpdateHostKeys, OpenSSH PROTOCOL §2.5), in its load order.
        var w = SSHWriter(SSHMsg.globalRequest)
        w.string("hostkeys-00@openssh.com")
        w.bool(false)
        for alg in ["rsa-sha2-512", "ecdsa-sha2-nistp256", "ssh-ed25519"] { if let b = transport.hostKeys.blob(alg) { w.string(b) } }
        transport.send(w.bytes)
    }

    // MARK: connection protocol (RFC 4254)

    func channelMessage(_ type: UInt8, _ r: inout SSHReader) throws {
        if type == SSHMsg.channelOpen {
            let kind = try r.text(max: 64)
            let sender = try r.u32(), window = try r.u32(), maxPacket = try r.u32()
            switch kind {
            case "session":
                guard channels.count < SSHDecoy.maxSessions else { openFailure(sender, 4, "open failed"); return }
                let id = nextChannel
                nextChannel += 1
                let c = SSHChannel(decoy: self, local: id, remote: sender, window: window, maxPacket: maxPacket)
                channels[id] = c
                // sshd confirms a session with a zero window and opens it when the shell/exec starts.
                var w = SSHWriter(SSHMsg.channelOpenConfirmation)
                w.u32(sender); w.u32(id); w.u32(0); w.u32(SSHChannel.maxPacket)
                transport.send(w.bytes)
            case "direct-tcpip":
                let host = try r.text(max: 256), port = try r.u32(), oh = try r.text(max: 256), op = try r.u32()
                io.emit(info.event(SSHEvents.forward, [("dst_host", DecoyEvents.printable(Array(host.utf8), max: 256)), ("dst_port", String(port)),
                                                       ("orig_host", DecoyEvents.printable(Array(oh.utf8), max: 256)), ("orig_port", String(op))]))
                openFailure(sender, 2, "Connection refused")
            default:
                openFailure(sender, 3, "unknown channel type")
            }
            return
        }
        let id = try r.u32()
        guard let c = channels[id] else { transport.fail("unexpected_message", "message \(type) for unknown channel \(id)"); return }
        switch type {
        case SSHMsg.channelWindowAdjust: c.windowAdjust(try r.u32())
        case SSHMsg.channelData: c.data(Array(try r.string(max: Int(DC_SSH_MAX_PACKET))))
        case SSHMsg.channelExtendedData: _ = try r.u32(); _ = try r.string(max: Int(DC_SSH_MAX_PACKET))
        case SSHMsg.channelEOF: c.eof()
        case SSHMsg.channelClose:
            c.closeReceived()
            channels[id] = nil
        case SSHMsg.channelRequest:
            let req = try r.text(max: 64)
            let wantReply = try r.bool()
            c.holding = true
            let ok = try c.request(req, &r)
            if wantReply { c.reply(ok) }
            c.afterRequest()
        case SSHMsg.channelSuccess, SSHMsg.channelFailure: break
        default: transport.fail("unexpected_message", "channel message \(type)")
        }
    }

    func openFailure(_ sender: UInt32, _ code: UInt32, _ text: String) {
        var w = SSHWriter(SSHMsg.channelOpenFailure)
        w.u32(sender); w.u32(code); w.string(text); w.string("")
        transport.send(w.bytes)
    }
}
