// SMTPDecoy.swift: Postfix smtpd as Debian/Ubuntu configure it, harvesting credentials: AUTH PLAIN/LOGIN
// are offered and always fail with Postfix's 535; relaying is denied with Postfix's 554 wording; mail
// to the decky's own domain is accepted and kept as an .eml artifact. No STARTTLS is offered (offering
// it without TLS would be a tell). Service keys: `banner` (text after "220 "), `accept`.

enum SMTPEvents {
    static let ehlo = DecoyEvents.spec("smtp", "ehlo", ["verb", "name"])
    static let auth = DecoyEvents.spec("smtp", "auth.attempt", ["mechanism"], credential: true)
    static let mailFrom = DecoyEvents.spec("smtp", "mail_from", ["address"])
    static let rcptTo = DecoyEvents.spec("smtp", "rcpt_to", ["address", "accepted", "code"])
    static let message = DecoyEvents.spec("smtp", "message", ["subject", "from", "to", "size", "received", "truncated", "sha256", "stored_as", "limited_by"])
    static let command = DecoyEvents.spec("smtp", "command", ["verb", "arg", "reply_code", "anomaly"])
    static let all = [DecoyEvents.connect("smtp"), DecoyEvents.closed("smtp"), ehlo, auth, mailFrom, rcptTo, message, command]
}

public final class SMTPDecoy: DecoySession {
    public static let definition = DecoyDefinition(
        slug: "smtp", ports: [25, 587], events: SMTPEvents.all, idleTimeout: 300,
        persona: { _ in "Postfix smtpd" }, make: { SMTPDecoy($0) })

    enum State { case command, authLoginUser(String), authLoginPass(String, String), authPlain, data }

    let info: DecoySessionInfo
    let policy: CredentialPolicy
    var lines = LineBuffer(max: 2048)                 // Postfix line_length_limit is 2048
    var state = State.command
    var helo: String?
    var from: String?
    var rcpts: [String] = []
    var message: ArtifactWriter?
    var messageBytes = 0
    var subject = ""
    var inHeaders = true
    var authFailures = 0
    var errors = 0

    init(_ info: DecoySessionInfo) {
        self.info = info
        policy = CredentialPolicy(info.config("accept"), default: .never)
    }

    var fqdn: String { info.decky.hostname.contains(".") ? info.decky.hostname : info.decky.hostname.lowercased() + ".localdomain" }
    var domain: String { String(fqdn.split(separator: ".", maxSplits: 1).last ?? "localdomain") }

    public func start(_ io: DecoyIO) {
        let tag = info.distro.postfixTag
        io.send("220 \(info.config("banner") ?? "\(fqdn) ESMTP Postfix\(tag.isEmpty ? "" : " (\(tag))")")\r\n")
    }


    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        lines.feed(bytes) { line, overflow in
            if case .data = state { dataLine(line, io); return }
            if overflow {
                io.emit(info.event(SMTPEvents.command, [("verb", ""), ("arg", DecoyEvents.printable(line.prefix(64))), ("reply_code", "500"), ("anomaly", "line_too_long")]))
                io.send("500 5.5.2 Error: line too long\r\n")
                return
            }
            handle(line, io)
        }
    }

    func reply(_ io: DecoyIO, _ text: String, verb: String, arg: String, after: Double = 0) {
        io.send(text, after: after)
        io.emit(info.event(SMTPEvents.command, [("verb", verb), ("arg", String(arg.prefix(512))), ("reply_code", String(text.prefix(3)))]))
        if text.hasPrefix("5") { errors += 1 }
        // Postfix: smtpd_hard_error_limit 20.
        if errors >= 20 { io.send("421 4.7.0 \(fqdn) Error: too many errors\r\n"); io.close() }
    }

    func authAttempt(_ io: DecoyIO, mechanism: String, user: String, secret: [UInt8]) {
        let ok = policy.accepts(user: user, password: secret, attempt: authFailures + 1)
        io.emit(info.event(SMTPEvents.auth, DecoyEvents.credential(principal: user, username: user, secret: secret, result: ok ? "success" : "failed") + [("mechanism", mechanism)]))
        state = .command
        if ok { io.send("235 2.7.0 Authentication successful\r\n"); return }
        authFailures += 1
        errors += 1
        io.send("535 5.7.8 Error: authentication failed: authentication failure\r\n", after: 1.0)
    }

    func handle(_ line: [UInt8], _ io: DecoyIO) {
        let text = DecoyEvents.printable(line, max: 2048)
        switch state {
        case .authLoginUser(let mech):
            if text == "*" { state = .command; io.send("501 5.7.0 Authentication aborted\r\n"); return }
            guard let u = Base64.decode(text) else { state = .command; io.send("535 5.7.8 Error: authentication failed: bad protocol / cancel\r\n"); return }
            state = .authLoginPass(mech, String(decoding: u, as: UTF8.self))
            io.send("334 UGFzc3dvcmQ6\r\n")
            return
        case .authLoginPass(let mech, let user):
            if text == "*" { state = .command; io.send("501 5.7.0 Authentication aborted\r\n"); return }
            guard let p = Base64.decode(text) else { state = .command; io.send("535 5.7.8 Error: authentication failed: bad protocol / cancel\r\n"); return }
            authAttempt(io, mechanism: mech, user: user, secret: p)
            return
        case .authPlain:
            if text == "*" { state = .command; io.send("501 5.7.0 Authentication aborted\r\n"); return }
            plain(text, io)
            return
        case .command, .data:
            break
        }
        let sp = text.firstIndex(of: " ")
        let verb = String(text[..<(sp ?? text.endIndex)]).uppercased()
        let arg = sp.map { String(text[text.index(after: $0)...]).trimmingSpaces } ?? ""
        switch verb {
        case "EHLO", "HELO":
            guard !arg.isEmpty else { reply(io, "501 Syntax: \(verb) hostname\r\n", verb: verb, arg: arg); return }
            helo = arg
            from = nil; rcpts = []
            io.emit(info.event(SMTPEvents.ehlo, [("verb", verb), ("name", String(arg.prefix(255)))]))
            if verb == "HELO" { io.send("250 \(fqdn)\r\n") }
            else { io.send("250-\(fqdn)\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n") }
        case "AUTH":
            guard helo != nil else { reply(io, "503 5.5.1 Error: send HELO/EHLO first\r\n", verb: verb, arg: arg); return }
            let parts = arg.split(separator: " ")
            let mech = parts.first.map { $0.uppercased() } ?? ""
            switch mech {
            case "LOGIN":
                if parts.count > 1, let u = Base64.decode(parts[1]) { state = .authLoginPass("LOGIN", String(decoding: u, as: UTF8.self)); io.send("334 UGFzc3dvcmQ6\r\n") }
                else { state = .authLoginUser("LOGIN"); io.send("334 VXNlcm5hbWU6\r\n") }
            case "PLAIN":
                if parts.count > 1 { plain(String(parts[1]), io) } else { state = .authPlain; io.send("334 \r\n") }
            default:
                reply(io, "535 5.7.8 Error: authentication failed: Invalid authentication mechanism\r\n", verb: verb, arg: arg)
            }
        case "MAIL":
            guard helo != nil else { reply(io, "503 5.5.1 Error: send HELO/EHLO first\r\n", verb: verb, arg: arg); return }
            guard arg.uppercased().hasPrefix("FROM:") else { reply(io, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n", verb: verb, arg: arg); return }
            guard from == nil else { reply(io, "503 5.5.1 Error: nested MAIL command\r\n", verb: verb, arg: arg); return }
            let addr = address(arg.dropFirst(5))
            from = addr
            io.emit(info.event(SMTPEvents.mailFrom, [("address", String(addr.prefix(512)))]))
            io.send("250 2.1.0 Ok\r\n")
        case "RCPT":
            guard from != nil else { reply(io, "503 5.5.1 Error: need MAIL command\r\n", verb: verb, arg: arg); return }
            guard arg.uppercased().hasPrefix("TO:") else { reply(io, "501 5.5.4 Syntax: RCPT TO:<address>\r\n", verb: verb, arg: arg); return }
            let addr = address(arg.dropFirst(3))
            let rcptDomain = addr.split(separator: "@").last.map { $0.lowercased() } ?? ""
            let local = !addr.contains("@") || rcptDomain == fqdn.lowercased() || rcptDomain == domain.lowercased()
            if local {
                rcpts.append(addr)
                io.emit(info.event(SMTPEvents.rcptTo, [("address", String(addr.prefix(512))), ("accepted", "true"), ("code", "250")]))
                io.send("250 2.1.5 Ok\r\n")
            } else {
                io.emit(info.event(SMTPEvents.rcptTo, [("address", String(addr.prefix(512))), ("accepted", "false"), ("code", "554")]))
                errors += 1
                io.send("554 5.7.1 <\(addr)>: Relay access denied\r\n")
            }
        case "DATA":
            guard from != nil else { reply(io, "503 5.5.1 Error: need RCPT command\r\n", verb: verb, arg: arg); return }
            guard !rcpts.isEmpty else { reply(io, "554 5.5.1 Error: no valid recipients\r\n", verb: verb, arg: arg); return }
            state = .data
            message = ArtifactWriter(root: info.artifactsDir, decky: info.decky.name, service: "smtp", source: info.client.description, cap: 10_240_000)
            messageBytes = 0; subject = ""; inHeaders = true
            io.send("354 End data with <CR><LF>.<CR><LF>\r\n")
        case "RSET": from = nil; rcpts = []; io.send("250 2.0.0 Ok\r\n")
        case "NOOP": io.send("250 2.0.0 Ok\r\n")
        case "VRFY":
            reply(io, arg.isEmpty ? "501 5.5.4 Syntax: VRFY address\r\n" : "252 2.0.0 \(arg)\r\n", verb: verb, arg: arg)
        case "ETRN": reply(io, "458 Unable to queue messages\r\n", verb: verb, arg: arg)
        case "STARTTLS": reply(io, "502 5.5.1 Error: command not implemented\r\n", verb: verb, arg: arg)
        case "QUIT": io.send("221 2.0.0 Bye\r\n"); io.close()
        case "":
            reply(io, "500 5.5.2 Error: bad syntax\r\n", verb: verb, arg: arg)
        default:
            reply(io, "502 5.5.2 Error: command not recognized\r\n", verb: verb, arg: arg)
        }
    }

    func plain(_ text: String, _ io: DecoyIO) {
        guard let raw = Base64.decode(text) else {
            state = .command
            io.send("501 5.5.2 Cannot decode response\r\n")
            return
        }
        let parts = raw.split(separator: 0, omittingEmptySubsequences: false)
        let user = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
        let pass = parts.count > 2 ? Array(parts[2]) : []
        authAttempt(io, mechanism: "PLAIN", user: user, secret: pass)
    }

    func address(_ s: Substring) -> String {
        var t = s.trimmingSpaces
        if let lt = t.firstIndex(of: "<"), let gt = t.firstIndex(of: ">"), lt < gt { t = String(t[t.index(after: lt)..<gt]) }
        else if let sp = t.firstIndex(of: " ") { t = String(t[..<sp]) }
        return t
    }

    func dataLine(_ line: [UInt8], _ io: DecoyIO) {
        if line == [0x2e] {
            state = .command
            var f: [(String, String)] = [("subject", subject), ("from", from ?? ""), ("to", rcpts.joined(separator: ",")), ("received", String(messageBytes))]
            if let m = message {
                let r = m.finish()
                f += [("size", String(r.size)), ("sha256", r.sha256), ("stored_as", r.path), ("truncated", r.truncated ? "true" : "false")]
                if let why = m.limitedBy { f.append(("limited_by", why)) }
            } else { f.append(("size", String(messageBytes))) }
            io.emit(info.event(SMTPEvents.message, f))
            message = nil
            from = nil; rcpts = []
            var g = SystemRandomNumberGenerator()
            let hex: [Character] = Array("0123456789ABCDEF")
            let qid = String((0..<10).map { _ in hex[Int.random(in: 0..<16, using: &g)] })
            io.send("250 2.0.0 Ok: queued as \(qid)\r\n")
            return
        }
        let body = line.first == 0x2e ? Array(line.dropFirst()) : line
        messageBytes += body.count + 2
        message?.write(body + [0x0d, 0x0a])
        if inHeaders {
            if body.isEmpty { inHeaders = false }
            else if body.count > 8, String(decoding: body.prefix(8), as: UTF8.self).lowercased() == "subject:" {
                subject = DecoyEvents.printable(body.dropFirst(8), max: 512).trimmingSpaces
            }
        }
    }
}
