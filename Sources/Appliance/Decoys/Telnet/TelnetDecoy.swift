// TelnetDecoy.swift: netkit-style Linux telnetd in front of /bin/login. The first bytes are exactly
// IAC DO TTYPE, DO TSPEED, DO XDISPLOC, DO NEW-ENVIRON (nmap: "Linux telnetd"; IAC DO NAWS alone is what
// nmap calls the Cowrie honeypot, decoys.md §3.3). Options are parsed out of the byte stream (RFC 854
// state machine, subnegotiations bounded), the client's answers are logged, then the login prompt,
// echo handled like the real thing (username echoed, password not), Debian's 3 s failure delay, and the
// FakeShell after a login. Service keys: `accept` (default root:admin, admin:admin), `banner` (issue).

enum TelnetEvents {
    static let option = DecoyEvents.spec("telnet", "option", ["command", "option", "value"])
    static let success = DecoyEvents.spec("telnet", "login.success", credential: true)
    static let failed = DecoyEvents.spec("telnet", "login.failed", credential: true)
    static let command = DecoyEvents.spec("telnet", "command.input", ["input", "cwd", "truncated"])
    static let download = DecoyEvents.spec("telnet", "session.file_download", ["url"])
    static let tty = DecoyEvents.spec("telnet", "tty.closed", ["ttylog", "size", "duration_s", "truncated"])
    static let all = [DecoyEvents.connect("telnet"), DecoyEvents.closed("telnet"), option, success, failed, command, download, tty]
}

public final class TelnetDecoy: DecoySession {
    public static let definition = DecoyDefinition(
        slug: "telnet", ports: [23], events: TelnetEvents.all, idleTimeout: 600,
        persona: { _ in "Linux telnetd" }, make: { TelnetDecoy($0) })

    static let IAC: UInt8 = 255, DONT: UInt8 = 254, DO: UInt8 = 253, WONT: UInt8 = 252, WILL: UInt8 = 251
    static let SB: UInt8 = 250, SE: UInt8 = 240
    static let optionNames: [UInt8: String] = [0: "BINARY", 1: "ECHO", 3: "SGA", 5: "STATUS", 24: "TTYPE", 31: "NAWS",
                                               32: "TSPEED", 33: "LFLOW", 34: "LINEMODE", 35: "XDISPLOC", 36: "OLD-ENVIRON", 39: "NEW-ENVIRON"]

    enum Mode { case negotiating, login, password, shell, closed }
    enum Parse { case data, iac, command(UInt8), sb, sbIAC }

    let info: DecoySessionInfo
    let policy: CredentialPolicy
    var mode = Mode.negotiating
    var parse = Parse.data
    var sbBuf: [UInt8] = []
    lazy var editor = LineDiscipline(maxLine: maxLine)
    var username = ""
    var attempts = 0
    var shell: FakeShell?
    var tty: TTYLog?
    var width = 80, height = 24
    var promptSent = false
    let maxLine = 4096

    init(_ info: DecoySessionInfo) {
        self.info = info
        policy = CredentialPolicy(info.config("accept"), default: .fixed([("root", "admin"), ("admin", "admin")]))
    }

    var loginPrompt: String { "\(info.decky.hostname.split(separator: ".").first ?? "localhost") login: " }

    public func start(_ io: DecoyIO) {
        let I = TelnetDecoy.IAC, D = TelnetDecoy.DO
        io.send([I, D, 24, I, D, 32, I, D, 35, I, D, 39])
        // A client that never negotiates (nc) still gets a prompt.
        io.after(2.0) { [weak self] in self?.beginLogin(io) }
    }

    public func end(reason: String, _ io: DecoyIO) { closeTTY(io) }

    func closeTTY(_ io: DecoyIO) {
        guard let t = tty else { return }
        tty = nil
        let r = t.finish()
        io.emit(info.event(TelnetEvents.tty, [("ttylog", r.path), ("size", String(r.bytes)), ("duration_s", decimalText(r.duration, 3)),
                                              ("truncated", r.truncated ? "true" : "false")]))
    }

    /// Sends and, in a shell, records what the terminal shows.
    func show(_ io: DecoyIO, _ text: String, after: Double = 0) {
        io.send(text, after: after)
        tty?.output(Array(text.utf8))
    }

    func beginLogin(_ io: DecoyIO) {
        guard !promptSent, mode == .negotiating else { return }
        promptSent = true
        let I = TelnetDecoy.IAC
        io.send([I, TelnetDecoy.WILL, 3, I, TelnetDecoy.WILL, 1])              // WILL SGA, WILL ECHO
        // /etc/issue.net: the pretty name without its codename ("Debian GNU/Linux 12").
        let pretty = info.distro.prettyName
        let issue = info.config("banner") ?? String(pretty[..<(pretty.range(of: " (")?.lowerBound ?? pretty.endIndex)])
        io.send("\r\n\(issue)\r\n\(loginPrompt)")
        mode = .login
    }

    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        var data: [UInt8] = []
        for b in bytes {
            switch parse {
            case .data:
                if b == TelnetDecoy.IAC { parse = .iac } else { data.append(b) }
            case .iac:
                switch b {
                case TelnetDecoy.IAC: data.append(b); parse = .data
                case TelnetDecoy.DO, TelnetDecoy.DONT, TelnetDecoy.WILL, TelnetDecoy.WONT: parse = .command(b)
                case TelnetDecoy.SB: sbBuf.removeAll(); parse = .sb
                default: parse = .data                                   // NOP, GA, AYT...: ignored
                }
            case .command(let c):
                option(c, b, io)
                parse = .data
            case .sb:
                if b == TelnetDecoy.IAC { parse = .sbIAC } else if sbBuf.count < 512 { sbBuf.append(b) }
            case .sbIAC:
                if b == TelnetDecoy.SE { subnegotiation(io); parse = .data }
                else { if sbBuf.count < 512 { sbBuf.append(b) }; parse = .sb }
            }
        }
        if mode == .negotiating && !promptSent { beginLogin(io) }
        input(data, io)
    }

    func option(_ cmd: UInt8, _ opt: UInt8, _ io: DecoyIO) {
        let names: [UInt8: String] = [TelnetDecoy.DO: "DO", TelnetDecoy.DONT: "DONT", TelnetDecoy.WILL: "WILL", TelnetDecoy.WONT: "WONT"]
        io.emit(info.event(TelnetEvents.option, [("command", names[cmd] ?? "?"), ("option", TelnetDecoy.optionNames[opt] ?? String(opt))]))
        let I = TelnetDecoy.IAC
        if cmd == TelnetDecoy.WILL {
            switch opt {
            case 24: io.send([I, TelnetDecoy.SB, 24, 1, I, TelnetDecoy.SE])            // TTYPE SEND
            case 32: io.send([I, TelnetDecoy.SB, 32, 1, I, TelnetDecoy.SE])            // TSPEED SEND
            case 35: io.send([I, TelnetDecoy.SB, 35, 1, I, TelnetDecoy.SE])            // XDISPLOC SEND
            case 39: io.send([I, TelnetDecoy.SB, 39, 1, I, TelnetDecoy.SE])            // NEW-ENVIRON SEND
            case 31, 33: break                                                          // NAWS, LFLOW: fine
            default: io.send([I, TelnetDecoy.DONT, opt])
            }
        } else if cmd == TelnetDecoy.DO {
            if opt != 1 && opt != 3 { io.send([I, TelnetDecoy.WONT, opt]) }             // we only do ECHO, SGA
        }
    }

    func subnegotiation(_ io: DecoyIO) {
        guard let opt = sbBuf.first else { return }
        if opt == 31, sbBuf.count >= 5 {                                             // NAWS: width, height
            width = max(1, min(1000, Int(sbBuf[1]) << 8 | Int(sbBuf[2])))
            height = max(1, min(1000, Int(sbBuf[3]) << 8 | Int(sbBuf[4])))
        }
        let value = DecoyEvents.printable(sbBuf.dropFirst(2), max: 256)
        io.emit(info.event(TelnetEvents.option, [("command", "SB"), ("option", TelnetDecoy.optionNames[opt] ?? String(opt)), ("value", value)]))
    }

    /// Line discipline (shared with SSH's pty): echo (not for passwords), erase, kill, ^C, ^D. Echo is sent once
    /// per read, so a line typed in one packet is one write on the wire and one event in the tty log.
    func input(_ data: [UInt8], _ io: DecoyIO) {
        var echo: [UInt8] = []
        func flushEcho() {
            guard !echo.isEmpty else { return }
            io.send(echo)
            if mode == .shell { tty?.output(echo) }
            echo.removeAll()
        }
        for b in data {
            if mode == .closed { return }
            switch editor.feed(b, echoing: mode != .password, echo: &echo) {
            case .line(let l, _)?:
                if mode == .shell, let sh = shell { echo += Array(sh.ttyLineEnd.utf8) }
                flushEcho()
                submit(l, io)
            case .interrupt?:
                flushEcho()
                if mode == .shell, let sh = shell { show(io, "^C\r\n" + sh.ttyLineEnd + sh.ttyPrompt) }
            case .endOfFile?:
                flushEcho()
                if mode == .shell, let sh = shell { show(io, sh.ttyLineEnd + "logout\r\n"); closeTTY(io) }
                mode = .closed
                io.close()
            case nil:
                break
            }
        }
        flushEcho()
    }

    func submit(_ l: [UInt8], _ io: DecoyIO) {
        switch mode {
        case .negotiating, .login:
            mode = .login
            username = DecoyEvents.printable(l, max: 256)
            if username.isEmpty { io.send(loginPrompt); return }
            io.send("Password: ")
            mode = .password
        case .password:
            attempts += 1
            if policy.accepts(user: username, password: l, attempt: attempts) {
                io.emit(info.event(TelnetEvents.success, DecoyEvents.credential(principal: username, username: username, secret: l, result: "success")))
                let sh = FakeShell(user: username, persona: info.decky)
                shell = sh
                mode = .shell
                tty = TTYLog(root: info.artifactsDir, decky: info.decky.name, service: "telnet", sessionID: info.sessionID, width: width, height: height)
                show(io, "\r\n" + sh.motd + "\r\n" + sh.ttyPrompt, after: 0.2)
            } else {
                io.emit(info.event(TelnetEvents.failed, DecoyEvents.credential(principal: username, username: username, secret: l, result: "failed")))
                // Debian's login: FAIL_DELAY 3, LOGIN_RETRIES 5.
                if attempts >= 5 { io.send("\r\nLogin incorrect\r\n", after: 3.0); io.close(); mode = .closed; return }
                io.send("\r\nLogin incorrect\r\n" + loginPrompt, after: 3.0)
                mode = .login
            }
        case .shell:
            guard let sh = shell else { return }
            let text = DecoyEvents.printable(l, max: maxLine)
            tty?.input(l + [0x0d])
            if text.trimmingSpaces.isEmpty { show(io, sh.ttyPrompt); return }
            io.emit(info.event(TelnetEvents.command, [("input", text), ("cwd", sh.cwd), ("truncated", l.count >= maxLine ? "true" : "false")]))
            let r = sh.run(text)
            for u in r.urls { io.emit(info.event(TelnetEvents.download, [("url", String(u.prefix(2048)))])) }
            if r.exit { show(io, "logout\r\n"); closeTTY(io); io.close(); mode = .closed; return }
            show(io, r.output + sh.ttyPrompt, after: r.urls.isEmpty ? 0 : 1.5)
        case .closed:
            break
        }
    }
}
