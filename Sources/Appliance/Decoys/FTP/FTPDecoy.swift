// FTPDecoy.swift: vsftpd as Debian/Ubuntu ship it (replies worded as vsftpd's source words them), with
// passive data channels opened inside the decky, uploads kept as artifacts, and every login recorded.
// Service keys: `version` (vsftpd version, default the distro's), `accept` (CredentialPolicy; default
// anonymous and ftp:ftp with any password, admin:admin), `banner` (full 220 text).

enum FTPEvents {
    static let success = DecoyEvents.spec("ftp", "login.success", credential: true)
    static let failed = DecoyEvents.spec("ftp", "login.failed", credential: true)
    static let command = DecoyEvents.spec("ftp", "command", ["verb", "arg", "reply_code", "anomaly"])
    static let upload = DecoyEvents.spec("ftp", "file_upload", ["name", "size", "received", "truncated", "sha256", "stored_as", "limited_by"])
    static let download = DecoyEvents.spec("ftp", "file_download", ["name", "found"])
    static let all = [DecoyEvents.connect("ftp"), DecoyEvents.closed("ftp"), success, failed, command, upload, download]
}

public final class FTPDecoy: DecoySession {
    public static let definition = DecoyDefinition(
        slug: "ftp", ports: [21], events: FTPEvents.all, idleTimeout: 300,
        persona: { "vsftpd " + FTPDecoy.version($0) }, make: { FTPDecoy($0) })

    static func version(_ info: DecoySessionInfo) -> String { info.config("version") ?? info.distro.vsftpd }

    let info: DecoySessionInfo
    let policy: CredentialPolicy
    var lines = LineBuffer(max: 4096)
    var user: String?
    var loggedIn = false
    var failures = 0
    var attempts = 0
    var cwd = "/"
    var binary = false
    /// The decky's tree, shared by its sessions (an upload is listed in the next session). Bounded: past
    /// 1,000 names, new directories and files are refused as a full disk would refuse them.
    struct Tree { var dirs: Set<String>; var files: [String: Int] }
    let tree: DeckyShared<Tree>
    var dirs: Set<String> {
        get { tree.with { $0.dirs } }
        set { tree.with { t in if newValue.count <= 1_000 || newValue.count < t.dirs.count { t.dirs = newValue } } }
    }
    var files: [String: Int] {
        get { tree.with { $0.files } }
        set { tree.with { t in if newValue.count <= 1_000 || newValue.count < t.files.count { t.files = newValue } } }
    }
    var data: DataConnection?
    var passivePending = false
    var activeRequested = false
    var waiting: (([UInt8]) -> Void)?   // a transfer command waiting for the data connection
    var renameFrom: String?

    init(_ info: DecoySessionInfo) {
        self.info = info
        policy = CredentialPolicy(info.config("accept"), default: .fixed([("anonymous", "*"), ("ftp", "*"), ("admin", "admin")]))
        tree = info.states.get(decky: info.decky.name, service: "ftp") {
            Tree(dirs: ["/", "/pub", "/upload"], files: ["/pub/README": FTPDecoy.readme.utf8.count])
        }
    }

    public func start(_ io: DecoyIO) {
        io.send(info.config("banner").map { "220 \($0)\r\n" } ?? "220 (vsFTPd \(FTPDecoy.version(info)))\r\n")
    }

    public func end(reason: String, _ io: DecoyIO) { data?.close() }

    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        lines.feed(bytes) { line, overflow in
            if overflow {
                io.emit(info.event(FTPEvents.command, [("verb", ""), ("arg", DecoyEvents.printable(line.prefix(64))),
                                                       ("reply_code", "500"), ("anomaly", "line_too_long")]))
                io.send("500 Input line too long.\r\n")
                return
            }
            handle(line, io)
        }
    }

    func reply(_ io: DecoyIO, _ text: String, verb: String, arg: String, after: Double = 0) {
        io.send(text, after: after)
        let code = String(text.prefix(3))
        io.emit(info.event(FTPEvents.command, [("verb", verb), ("arg", String(arg.prefix(512))), ("reply_code", code)]))
    }

    func handle(_ line: [UInt8], _ io: DecoyIO) {
        let text = DecoyEvents.printable(line, max: 4096)
        let sp = text.firstIndex(of: " ")
        let verb = String(text[..<(sp ?? text.endIndex)]).uppercased()
        let arg = sp.map { String(text[text.index(after: $0)...]) } ?? ""
        switch verb {
        case "USER":
            if loggedIn { reply(io, "530 Can't change to another user.\r\n", verb: verb, arg: arg); return }
            user = arg
            reply(io, "331 Please specify the password.\r\n", verb: verb, arg: arg)
            return
        case "PASS":
            guard let u = user, !loggedIn else {
                reply(io, loggedIn ? "230 Already logged in.\r\n" : "503 Login with USER first.\r\n", verb: verb, arg: "")
                return
            }
            attempts += 1
            // The raw password bytes (after "PASS "), not the printable form.
            let secret = Array(line.dropFirst(min(line.count, 5)))
            if policy.accepts(user: u, password: secret, attempt: attempts) {
                loggedIn = true
                cwd = "/"
                io.emit(info.event(FTPEvents.success, DecoyEvents.credential(principal: u, username: u, secret: secret, result: "success")))
                io.send("230 Login successful.\r\n")
            } else {
                failures += 1
                user = nil
                io.emit(info.event(FTPEvents.failed, DecoyEvents.credential(principal: u, username: u, secret: secret, result: "failed")))
                // vsftpd: delay_failed_login=1 s, max_login_fails=3 then the session ends.
                io.send("530 Login incorrect.\r\n", after: 1.0)
                if failures >= 3 { io.close() }
            }
            return
        case "QUIT":
            reply(io, "221 Goodbye.\r\n", verb: verb, arg: arg)
            io.close()
            return
        case "FEAT":
            reply(io, "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n", verb: verb, arg: arg)
            return
        default:
            break
        }
        guard loggedIn else {
            if !verb.isEmpty { reply(io, "530 Please login with USER and PASS.\r\n", verb: verb, arg: arg) }
            return
        }
        switch verb {
        case "SYST": reply(io, "215 UNIX Type: L8\r\n", verb: verb, arg: arg)
        case "PWD", "XPWD": reply(io, "257 \"\(cwd)\" is the current directory\r\n", verb: verb, arg: arg)
        case "CWD", "XCWD", "CDUP", "XCUP":
            let target = verb.hasSuffix("UP") ? ".." : arg
            let p = resolve(target)
            if dirs.contains(p) { cwd = p; reply(io, "250 Directory successfully changed.\r\n", verb: verb, arg: arg) }
            else { reply(io, "550 Failed to change directory.\r\n", verb: verb, arg: arg) }
        case "TYPE":
            let a = arg.uppercased()
            if a.hasPrefix("I") || a == "L 8" { binary = true; reply(io, "200 Switching to Binary mode.\r\n", verb: verb, arg: arg) }
            else if a.hasPrefix("A") { binary = false; reply(io, "200 Switching to ASCII mode.\r\n", verb: verb, arg: arg) }
            else { reply(io, "500 Unrecognised TYPE command.\r\n", verb: verb, arg: arg) }
        case "MODE": reply(io, arg.uppercased() == "S" ? "200 Mode set to S.\r\n" : "504 Bad MODE command.\r\n", verb: verb, arg: arg)
        case "STRU": reply(io, arg.uppercased() == "F" ? "200 Structure set to F.\r\n" : "504 Bad STRU command.\r\n", verb: verb, arg: arg)
        case "NOOP": reply(io, "200 NOOP ok.\r\n", verb: verb, arg: arg)
        case "OPTS":
            reply(io, arg.uppercased().hasPrefix("UTF8") ? "200 Always in UTF8 mode.\r\n" : "501 Option not understood.\r\n", verb: verb, arg: arg)
        case "HELP":
            reply(io, "214-The following commands are recognized.\r\n ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD\r\n MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR\r\n RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD\r\n XPWD XRMD\r\n214 Help OK.\r\n", verb: verb, arg: arg)
        case "PASV", "EPSV":
            openPassive(io, extended: verb == "EPSV", arg: arg)
        case "PORT", "EPRT":
            // Active mode: the decky never connects out (it would be traffic to an address we do not own);
            // vsftpd's answer when that connect fails comes at the transfer.
            data?.close(); data = nil; passivePending = false; activeRequested = true
            reply(io, "200 \(verb) command successful. Consider using PASV.\r\n", verb: verb, arg: arg)
        case "LIST", "NLST":
            transfer(io, verb: verb, arg: arg, start: "150 Here comes the directory listing.\r\n") { conn, done in
                conn.write(Array(self.listing(names: verb == "NLST").utf8), then: true)
                done("226 Directory send OK.\r\n")
            }
        case "RETR":
            let p = resolve(arg)
            guard let size = files[p] else {
                io.emit(info.event(FTPEvents.download, [("name", String(arg.prefix(512))), ("found", "false")]))
                reply(io, "550 Failed to open file.\r\n", verb: verb, arg: arg)
                return
            }
            io.emit(info.event(FTPEvents.download, [("name", p), ("found", "true")]))
            transfer(io, verb: verb, arg: arg, start: "150 Opening \(binary ? "BINARY" : "ASCII") mode data connection for \(p.split(separator: "/").last ?? "") (\(size) bytes).\r\n") { conn, done in
                conn.write(Array(FTPDecoy.readme.utf8.prefix(size)), then: true)
                done("226 Transfer complete.\r\n")
            }
        case "STOR", "STOU", "APPE":
            let p = resolve(arg.isEmpty ? "upload" : arg)
            guard dirs.contains(parent(p)) else { reply(io, "553 Could not create file.\r\n", verb: verb, arg: arg); return }
            transfer(io, verb: verb, arg: arg, start: "150 Ok to send data.\r\n") { conn, done in
                let writer = ArtifactWriter(root: self.info.artifactsDir, decky: self.info.decky.name, service: "ftp", source: self.info.client.description)
                var received = 0
                conn.onData = { b in received += b.count; writer?.write(b) }
                conn.onClose = {
                    var f: [(String, String)] = [("name", p), ("received", String(received))]
                    if let w = writer {
                        let r = w.finish()
                        f += [("size", String(r.size)), ("sha256", r.sha256), ("stored_as", r.path), ("truncated", r.truncated ? "true" : "false")]
                        if let why = w.limitedBy { f.append(("limited_by", why)) }
                    } else {
                        f += [("size", String(received))]
                    }
                    io.emit(self.info.event(FTPEvents.upload, f))
                    self.files[p] = received
                    done("226 Transfer complete.\r\n")
                }
            }
        case "SIZE":
            if let s = files[resolve(arg)] { reply(io, "213 \(s)\r\n", verb: verb, arg: arg) }
            else { reply(io, "550 Could not get file size.\r\n", verb: verb, arg: arg) }
        case "MDTM":
            if files[resolve(arg)] != nil { reply(io, "213 20240314092211\r\n", verb: verb, arg: arg) }
            else { reply(io, "550 Could not get file modification time.\r\n", verb: verb, arg: arg) }
        case "MKD", "XMKD":
            let p = resolve(arg)
            if dirs.contains(parent(p)) && !dirs.contains(p) { dirs.insert(p); reply(io, "257 \"\(p)\" created\r\n", verb: verb, arg: arg) }
            else { reply(io, "550 Create directory operation failed.\r\n", verb: verb, arg: arg) }
        case "RMD", "XRMD":
            let p = resolve(arg)
            if dirs.contains(p) && p != "/" { dirs.remove(p); reply(io, "250 Remove directory operation successful.\r\n", verb: verb, arg: arg) }
            else { reply(io, "550 Remove directory operation failed.\r\n", verb: verb, arg: arg) }
        case "DELE":
            if files.removeValue(forKey: resolve(arg)) != nil { reply(io, "250 Delete operation successful.\r\n", verb: verb, arg: arg) }
            else { reply(io, "550 Delete operation failed.\r\n", verb: verb, arg: arg) }
        case "RNFR":
            let p = resolve(arg)
            if files[p] != nil || dirs.contains(p) { renameFrom = p; reply(io, "350 Ready for RNTO.\r\n", verb: verb, arg: arg) }
            else { reply(io, "550 RNFR command failed.\r\n", verb: verb, arg: arg) }
        case "RNTO":
            guard let from = renameFrom else { reply(io, "503 RNFR required first.\r\n", verb: verb, arg: arg); return }
            renameFrom = nil
            if let s = files.removeValue(forKey: from) { files[resolve(arg)] = s }
            reply(io, "250 Rename successful.\r\n", verb: verb, arg: arg)
        case "REST": reply(io, "350 Restart position accepted (\(CheckedInt.parse(arg, in: 0...Int.max) ?? 0)).\r\n", verb: verb, arg: arg)
        case "ABOR": data?.close(); data = nil; reply(io, "225 No transfer to ABOR.\r\n", verb: verb, arg: arg)
        case "STAT":
            reply(io, "211-FTP server status:\r\n     Connected to \(info.client)\r\n     Logged in as \(user ?? "ftp")\r\n     TYPE: \(binary ? "BINARY" : "ASCII")\r\n     No session bandwidth limit\r\n     Session timeout in seconds is 300\r\n     Control connection is plain text\r\n     Data connections will be plain text\r\n     At session startup, client count was 1\r\n     vsFTPd \(FTPDecoy.version(info)) - secure, fast, stable\r\n211 End of status\r\n", verb: verb, arg: arg)
        case "SITE": reply(io, "500 Unknown SITE command.\r\n", verb: verb, arg: arg)
        case "": break
        default: reply(io, "500 Unknown command.\r\n", verb: verb, arg: arg)
        }
    }

    func openPassive(_ io: DecoyIO, extended: Bool, arg: String) {
        activeRequested = false
        data?.close()
        data = nil
        guard let open = io.dataListener else {
            reply(io, "425 Could not listen for passive connection.\r\n", verb: extended ? "EPSV" : "PASV", arg: arg)
            return
        }
        passivePending = true
        let verb = extended ? "EPSV" : "PASV"
        open({ [weak self] conn in
            guard let self else { conn.close(); return }
            self.data = conn
            if let w = self.waiting { self.waiting = nil; w([]) }
        }, { [weak self] port in
            guard let self else { return }
            guard let port else {
                self.passivePending = false
                self.reply(io, "425 Could not listen for passive connection.\r\n", verb: verb, arg: arg)
                io.wake?()
                return
            }
            if extended {
                self.reply(io, "229 Entering Extended Passive Mode (|||\(port)|)\r\n", verb: verb, arg: arg)
            } else {
                let ip = self.info.decky.ip.bytes.map(String.init).joined(separator: ",")
                self.reply(io, "227 Entering Passive Mode (\(ip),\(port >> 8),\(port & 255)).\r\n", verb: verb, arg: arg)
            }
            io.wake?()
        })
    }

    /// Runs a transfer on the data connection (waiting for it when the client has not connected yet).
    func transfer(_ io: DecoyIO, verb: String, arg: String, start: String,
                  _ body: @escaping (DataConnection, _ done: @escaping (String) -> Void) -> Void) {
        guard passivePending || data != nil else {
            if activeRequested {
                // vsftpd connects out before its 150; the decky never does, so the connect "fails".
                activeRequested = false
                reply(io, "425 Failed to establish connection.\r\n", verb: verb, arg: arg, after: 1.0)
            } else {
                reply(io, "425 Use PORT or PASV first.\r\n", verb: verb, arg: arg)
            }
            return
        }
        let go: ([UInt8]) -> Void = { [weak self] _ in
            guard let self, let conn = self.data else { return }
            self.data = nil
            self.passivePending = false
            self.reply(io, start, verb: verb, arg: arg)
            io.wake?()
            body(conn) { final in
                io.send(final)
                io.wake?()
            }
        }
        if data != nil { go([]) } else { waiting = go }
    }

    func resolve(_ p: String) -> String {
        var parts = p.hasPrefix("/") ? [] : cwd.split(separator: "/").map(String.init)
        for c in p.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(String(c.prefix(255)))
        }
        return "/" + parts.joined(separator: "/")
    }

    func parent(_ p: String) -> String {
        guard let i = p.lastIndex(of: "/"), i != p.startIndex else { return "/" }
        return String(p[..<i])
    }

    func listing(names: Bool) -> String {
        let prefix = cwd == "/" ? "/" : cwd + "/"
        var out = ""
        for d in dirs.sorted() where d != cwd && d.hasPrefix(prefix) && !d.dropFirst(prefix.count).contains("/") {
            let n = d.dropFirst(prefix.count)
            out += names ? "\(n)\r\n" : "drwxr-xr-x    2 ftp      ftp          4096 Mar 14  2023 \(n)\r\n"
        }
        for (f, size) in files.sorted(by: { $0.key < $1.key }) where f.hasPrefix(prefix) && !f.dropFirst(prefix.count).contains("/") {
            let n = f.dropFirst(prefix.count)
            let s = String(size)
            out += names ? "\(n)\r\n" : "-rw-r--r--    1 ftp      ftp     \(String(repeating: " ", count: max(0, 8 - s.count)))\(s) Mar 14  2023 \(n)\r\n"
        }
        return out
    }

    static let readme = """
    Welcome to the public FTP area.

    pub/      public files (read only)
    upload/   drop box for partners; files are picked up nightly

    Please report problems to the IT service desk (ext. 4410).
    Unauthorised access is prohibited.
    \n
    """
}
