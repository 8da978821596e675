// SSHChannel.swift: one "session" channel (RFC 4254 §6): pty-req, env (sshd's AcceptEnv LANG LC_*),
// window-change, shell (the FakeShell with a pty's echo and line editing, or line-by-line without a pty),
// exec (one command line; `scp -t` / `scp -f` run the legacy SCP protocol), subsystem sftp (SFTPServer).
// Flow control both ways: our output waits for the client's window, and the client's window is topped up
// as we consume. Commands become ssh.command.input, URLs ssh.session.file_download (never fetched),
// uploads artifacts (ssh.session.file_upload), the terminal an asciicast v2 tty log.

final class SSHChannel {
    static let windowSize: UInt32 = 2 * 1024 * 1024, maxPacket: UInt32 = 32_768

    enum Mode { case idle, shell, exec, scpSink, scpSource, sftp, closed }

    unowned let decoy: SSHDecoy
    let local: UInt32, remote: UInt32
    var remoteWindow: UInt32
    let remoteMaxPacket: UInt32
    var localConsumed: UInt32 = 0
    var pending: [UInt8] = []
    var mode = Mode.idle
    var term = "", cols = 80, rows = 24
    var pty = false
    var shell: FakeShell?
    var tty: TTYLog?
    /// The pty's line editor (shell with a pty); `line` collects a line without one (piped input).
    /// The user's pty login before this one (sshd's PrintLastLog), found when the pty was allocated.
    var previousLogin: SSHLastLog.Entry?
    lazy var editor = LineDiscipline(maxLine: maxLine)
    var line: [UInt8] = []
    var eofSent = false, closeSent = false, exitPending: UInt32?
    var scp: SCPSink?
    var source: SCPSource?
    var sftp: SFTPServer?
    let maxLine = 4096

    init(decoy: SSHDecoy, local: UInt32, remote: UInt32, window: UInt32, maxPacket: UInt32) {
        self.decoy = decoy
        self.local = local
        self.remote = remote
        remoteWindow = window
        remoteMaxPacket = max(1024, min(maxPacket, 1 << 20))
    }

    var info: DecoySessionInfo { decoy.info }
    var io: DecoyIO { decoy.io }

    // MARK: requests

    func request(_ req: String, _ r: inout SSHReader) throws -> Bool {
        switch req {
        case "pty-req":
            let t = DecoyEvents.printable(Array(try r.string(max: 256)), max: 64)
            let c = Int(min(try r.u32(), 1000)), h = Int(min(try r.u32(), 1000))
            _ = try r.u32(); _ = try r.u32(); _ = try r.string(max: 4096)
            guard mode == .idle, !pty else { return false }          // one pty per session, before it starts (sshd)
            (term, cols, rows, pty) = (t, c, h, true)
            io.emit(info.event(SSHEvents.size, [("width", String(cols)), ("height", String(rows)), ("term", term)]))
            // sshd records the login when it allocates the pty; the shell shows the one before
            let book = SSHLastLog.shared(info)
            let user = decoy.user ?? "root", host = info.client.description
            previousLogin = book.lock.withLock { book.value.record(user: user, host: host, time: Int(wallClockSeconds())) }
            return true
        case "window-change":
            cols = Int(min(try r.u32(), 1000)); rows = Int(min(try r.u32(), 1000))
            io.emit(info.event(SSHEvents.size, [("width", String(cols)), ("height", String(rows)), ("term", term)]))
            return true
        case "env":
            let name = DecoyEvents.printable(Array(try r.string(max: 1024)), max: 256)
            let value = DecoyEvents.printable(Array(try r.string(max: 8192)), max: 1024)
            io.emit(info.event(SSHEvents.clientVar, [("name", name), ("value", value)]))
            return name == "LANG" || name.hasPrefix("LC_")
        case "shell":
            guard mode == .idle else { return false }
            grantWindow()
            mode = .shell
            let sh = FakeShell(user: decoy.user ?? "root", persona: decoy.shellDecky)
            shell = sh
            openTTY()
            if pty { show(sh.motd + (previousLogin.map(SSHLastLog.message) ?? "") + sh.ttyPrompt) }
            return true
        case "exec":
            guard mode == .idle else { return false }
            let cmd = Array(try r.string(max: 65_536))
            grantWindow()
            exec(cmd)
            return true
        case "subsystem":
            guard mode == .idle else { return false }
            let name = try r.text(max: 64)
            guard name == "sftp" else { return false }
            grantWindow()
            mode = .sftp
            sftp = SFTPServer(channel: self, shell: FakeShell(user: decoy.user ?? "root", persona: decoy.shellDecky),
                              extensions: decoy.persona.sftpExtensions)
            return true
        default:
            // x11-req, auth-agent-req@openssh.com, signal, break, keepalive@openssh.com, ...
            return false
        }
    }

    /// The session's receive window, opened when it starts (before the request's reply, as sshd).
    func grantWindow() {
        sendChannel(SSHMsg.channelWindowAdjust) { $0.u32(SSHChannel.windowSize) }
    }

    func reply(_ ok: Bool) {
        sendChannel(ok ? SSHMsg.channelSuccess : SSHMsg.channelFailure)
    }

    /// Work that must follow the request's reply (exec output comes after CHANNEL_SUCCESS).
    func afterRequest() {
        holding = false
        flushPending()
        if let code = exitPending { exitPending = nil; finish(code) }
        if mode == .scpSink { scp?.begin() }
    }

    // MARK: data in

    func data(_ b: [UInt8]) {
        localConsumed &+= UInt32(b.count)
        if localConsumed >= SSHChannel.windowSize / 2 {
            let n = localConsumed
            sendChannel(SSHMsg.channelWindowAdjust) { $0.u32(n) }
            localConsumed = 0
        }
        switch mode {
        case .shell: pty ? typed(b) : piped(b)
        case .scpSink: scp?.receive(b)
        case .scpSource: sourceReceive(b)
        case .sftp: sftp?.receive(b)
        default: break
        }
    }

    func eof() {
        switch mode {
        case .shell:
            if !pty && !line.isEmpty { let l = line; line = []; runLine(l) }
            if mode == .shell { finish(0) }
        case .scpSink: scp?.finishAll(); finish(0)
        case .sftp: sftp?.ended(); finish(0)
        default: break
        }
    }

    func closeReceived() {
        if !closeSent { sendClose() }
        ended()
    }

    /// The connection or channel went away: close the tty log and unfinished uploads.
    func ended() {
        scp?.finishAll()
        sftp?.ended()
        scp = nil
        sftp = nil
        closeTTY()
        mode = .closed
    }

    /// Every shell and exec session gets an asciicast v2 log (channels after the first get their own file).
    func openTTY() {
        guard tty == nil else { return }
        let id = local == 0 ? info.sessionID : "\(info.sessionID)-\(local)"
        tty = TTYLog(root: info.artifactsDir, decky: info.decky.name, service: "ssh", sessionID: id, width: cols, height: rows)
    }

    func closeTTY() {
        guard let t = tty else { return }
        tty = nil
        let r = t.finish()
        io.emit(info.event(SSHEvents.tty, [("ttylog", r.path), ("size", String(r.bytes)), ("duration_s", decimalText(r.duration, 3)),
                                           ("truncated", r.truncated ? "true" : "false")]))
    }

    // MARK: shell

    /// A pty: the terminal echoes, edits, and CR ends a line (as bash's readline does).
    func typed(_ data: [UInt8]) {
        var echo: [UInt8] = []
        func flush() { if !echo.isEmpty { write(echo); tty?.output(echo); echo.removeAll() } }
        tty?.input(data)
        for b in data {
            guard mode == .shell, let sh = shell else { return }
            switch editor.feed(b, echoing: true, echo: &echo) {
            case .line(let l, _)?:
                echo += Array(sh.ttyLineEnd.utf8)
                flush()
                runLine(l)
            case .interrupt?:
                echo += Array(("^C\r\n" + sh.ttyLineEnd + sh.ttyPrompt).utf8)
            case .endOfFile?:
                flush()
                show(sh.ttyLineEnd + "logout\r\n")
                finish(0)
                return
            case nil:
                break
            }
        }
        flush()
    }

    /// No pty (`ssh host < script`): lines end with LF, nothing is echoed, no prompt.
    func piped(_ data: [UInt8]) {
        tty?.input(data)
        for b in data {
            guard mode == .shell else { return }
            if b == 0x0a { let l = line; line = []; runLine(l) }
            else if line.count < maxLine { line.append(b) }
        }
    }

    func runLine(_ l: [UInt8]) {
        guard let sh = shell else { return }
        var bytes = l
        if bytes.last == 0x0d { bytes.removeLast() }
        let text = DecoyEvents.printable(bytes, max: maxLine)
        if text.trimmingSpaces.isEmpty { if pty { show(sh.ttyPrompt) }; return }
        io.emit(info.event(SSHEvents.command, [("input", text), ("cwd", sh.cwd), ("channel", "shell"),
                                               ("truncated", bytes.count >= maxLine ? "true" : "false")]))
        let res = sh.run(text)
        for u in res.urls { io.emit(info.event(SSHEvents.download, [("url", String(u.prefix(2048)))])) }
        let out = pty ? res.output : res.output.replacingOccurrences(of: "\r\n", with: "\n")
        if res.exit {
            show(pty ? out + "logout\r\n" : out)
            finish(0)
            return
        }
        show(out + (pty ? sh.ttyPrompt : ""), after: res.urls.isEmpty ? 0 : 1.5)
    }

    func exec(_ cmd: [UInt8]) {
        let text = DecoyEvents.printable(cmd, max: 65_536)
        let sh = FakeShell(user: decoy.user ?? "root", persona: decoy.shellDecky)
        shell = sh
        io.emit(info.event(SSHEvents.command, [("input", String(text.prefix(maxLine))), ("cwd", sh.cwd), ("channel", "exec"),
                                               ("truncated", cmd.count > maxLine ? "true" : "false")]))
        let argv = text.split(separator: " ").map(String.init)
        if argv.first == "scp", let target = argv.last, argv.count >= 2 {
            if argv.contains("-t") {
                mode = .scpSink
                scp = SCPSink(channel: self, target: sh.resolve(target), shell: sh)
                return
            }
            if argv.contains("-f") {
                mode = .scpSource
                let path = sh.resolve(target)
                source = SCPSource(file: sh.files[path].map { (String(path.split(separator: "/").last ?? "file"), Array($0.utf8)) }, target: target)
                return
            }
        }
        mode = .exec
        openTTY()
        tty?.input(cmd + [0x0a])
        let res = sh.run(text)
        for u in res.urls { io.emit(info.event(SSHEvents.download, [("url", String(u.prefix(2048)))])) }
        let out = Array(res.output.replacingOccurrences(of: "\r\n", with: "\n").utf8)
        tty?.output(out)
        write(out)
        exitPending = res.output.contains("command not found") ? 127 : 0
    }

    /// `scp -f`: every step waits for the sink's \0, and the session ends after its last one, as scp does.
    func sourceReceive(_ b: [UInt8]) {
        guard var src = source else { return }
        for byte in b {
            switch src.step(byte) {
            case .send(let out): write(out)
            case .done(let code): source = nil; finish(code); return
            case .fail(let out): source = nil; write(out); finish(1); return
            }
        }
        source = src
    }

    // MARK: data out

    func show(_ text: String, after delay: Double = 0) {
        let b = Array(text.utf8)
        tty?.output(b)
        write(b, after: delay)
    }

    func write(_ b: [UInt8], after delay: Double = 0) {
        guard !closeSent, !eofSent else { return }
        pending += b
        flushPending(after: delay)
    }

    /// Output held while a request is being answered, so CHANNEL_SUCCESS goes out first (as sshd).
    var holding = false

    func flushPending(after delay: Double = 0) {
        guard !holding else { return }
        var d = delay
        while !pending.isEmpty && remoteWindow > 0 {
            let n = min(pending.count, Int(remoteWindow), Int(remoteMaxPacket))
            var w = SSHWriter(SSHMsg.channelData)
            w.u32(remote)
            w.string(pending.prefix(n))
            decoy.transport.send(w.bytes, after: d)
            d = 0
            pending.removeFirst(n)
            remoteWindow -= UInt32(n)
        }
    }

    func windowAdjust(_ n: UInt32) {
        let (sum, overflow) = remoteWindow.addingReportingOverflow(n)
        remoteWindow = overflow ? UInt32.max : sum
        flushPending()
        if pending.isEmpty, let code = deferredFinish { deferredFinish = nil; finish(code) }
    }

    var deferredFinish: UInt32?

    /// exit-status, EOF, CLOSE (after pending output has gone out).
    func finish(_ code: UInt32) {
        guard !closeSent else { return }
        if !pending.isEmpty { deferredFinish = code; mode = .closed; return }
        // sshd's order: without a pty EOF, exit-status, CLOSE; with one exit-status, eow@openssh.com (the
        // pty's write side closing), EOF, CLOSE (its pty order races with the drain; this is the usual one).
        func eof() {
            guard !eofSent else { return }
            sendChannel(SSHMsg.channelEOF)
            eofSent = true
        }
        if !pty { eof() }
        sendChannel(SSHMsg.channelRequest) { $0.string("exit-status"); $0.bool(false); $0.u32(code) }
        if pty {
            sendChannel(SSHMsg.channelRequest) { $0.string("eow@openssh.com"); $0.bool(false) }
            eof()
        }
        sendClose()
        closeTTY()
        mode = .closed
    }

    func sendClose() {
        guard !closeSent else { return }
        sendChannel(SSHMsg.channelClose)
        closeSent = true
    }

    /// A channel message to the client: type, the client's channel id, then `body`.
    func sendChannel(_ type: UInt8, _ body: (inout SSHWriter) -> Void = { _ in }) {
        var w = SSHWriter(type)
        w.u32(remote)
        body(&w)
        decoy.transport.send(w.bytes)
    }

    /// An upload finished (SCP or SFTP).
    func uploaded(_ name: String, _ a: ArtifactWriter?, via: String) {
        guard let a else { return }
        let r = a.finish()
        io.emit(info.event(SSHEvents.upload, [("filename", DecoyEvents.printable(Array(name.utf8), max: 1024)), ("size", String(r.size)),
                                              ("received", String(a.received)), ("truncated", r.truncated ? "true" : "false"),
                                              ("sha256", r.sha256), ("stored_as", r.path), ("via", via)] + (a.limitedBy.map { [("limited_by", $0)] } ?? [])))
    }
}

/// The receiving end of `scp -t` (OpenSSH's legacy protocol): C/D/E/T control lines, file bytes, \0 acks.
final class SCPSink {
    unowned let channel: SSHChannel
    let target: String
    let shell: FakeShell
    var buf: [UInt8] = []
    var remaining = 0
    var name = ""
    var writer: ArtifactWriter?
    var awaitingEnd = false
    var dirs: [String] = []

    init(channel: SSHChannel, target: String, shell: FakeShell) {
        self.channel = channel
        self.target = target
        self.shell = shell
    }

    func begin() { channel.write([0]) }

    func receive(_ b: [UInt8]) {
        buf += b
        while !buf.isEmpty {
            if remaining > 0 {
                let n = min(remaining, buf.count)
                writer?.write(Array(buf.prefix(n)))
                buf.removeFirst(n)
                remaining -= n
                if remaining == 0 { awaitingEnd = true }
                continue
            }
            if awaitingEnd {
                buf.removeFirst()                      // the sender's \0 after the data
                awaitingEnd = false
                channel.uploaded(name, writer, via: "scp")
                writer = nil
                channel.write([0])
                continue
            }
            guard let nl = buf.firstIndex(of: 0x0a) else {
                if buf.count > 4096 { protocolError("line too long") }
                return
            }
            let line = String(decoding: buf[..<nl], as: UTF8.self)
            buf.removeFirst(nl + 1)
            control(line)
        }
    }

    func control(_ line: String) {
        guard let kind = line.first else { protocolError("empty control line"); return }
        let parts = line.dropFirst().split(separator: " ", maxSplits: 2).map(String.init)
        switch kind {
        case "C":
            guard parts.count == 3, let size = CheckedInt.parse(parts[1], in: 0...Int(Int64.max)), !parts[2].contains("/") else { protocolError("bad C line"); return }
            let dest = dirs.isEmpty && !shell.isDirectory(target) ? target : (dirs.last ?? target) + "/" + parts[2]
            name = dest
            writer = ArtifactWriter(root: channel.info.artifactsDir, decky: channel.info.decky.name, service: "ssh", source: channel.info.client.description)
            remaining = size
            if size == 0 { awaitingEnd = true }
            channel.write([0])
        case "D":
            guard parts.count == 3 else { protocolError("bad D line"); return }
            dirs.append((dirs.last ?? target) + "/" + parts[2])
            channel.write([0])
        case "E":
            if !dirs.isEmpty { dirs.removeLast() }
            channel.write([0])
        case "T":
            channel.write([0])
        default:
            protocolError("unknown control \(kind)")
        }
    }

    func protocolError(_ why: String) {
        channel.io.emit(channel.info.event(SSHEvents.anomaly, [("kind", "scp_protocol"), ("detail", why)]))
        channel.write([1] + Array("scp: protocol error: \(why)\n".utf8))
        channel.finish(1)
    }

    func finishAll() {
        if writer != nil { channel.uploaded(name, writer, via: "scp"); writer = nil }
    }
}

/// The sending end of `scp -f` (OpenSSH's legacy protocol) for one persona file.
struct SCPSource {
    enum Action { case send([UInt8]), done(UInt32), fail([UInt8]) }
    enum State { case start, headerSent, dataSent }
    let file: (name: String, bytes: [UInt8])?
    let target: String
    var state = State.start

    init(file: (String, [UInt8])?, target: String) {
        self.file = file.map { (name: $0.0, bytes: $0.1) }
        self.target = target
    }

    mutating func step(_ ack: UInt8) -> Action {
        guard ack == 0 else { return .done(1) }
        guard let f = file else {
            return .fail([1] + Array("scp: \(target): No such file or directory\n".utf8))      // then scp exits 1
        }
        switch state {
        case .start: state = .headerSent; return .send(Array("C0644 \(f.bytes.count) \(f.name)\n".utf8))
        case .headerSent: state = .dataSent; return .send(f.bytes + [0])
        case .dataSent: return .done(0)
        }
    }
}
