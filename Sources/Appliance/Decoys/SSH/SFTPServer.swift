// SFTPServer.swift: SFTP version 3 (draft-ietf-secsh-filexfer-02) over the persona filesystem, with the
// extensions OpenSSH's sftp-server announces. What OpenSSH 9's scp (SFTP mode) and sftp need: REALPATH,
// STAT/LSTAT/FSTAT, OPEN/WRITE/CLOSE (uploads become artifacts: sha256, size cap), OPEN/READ of persona
// files, OPENDIR/READDIR, SETSTAT, MKDIR/REMOVE/RENAME (acknowledged), limits@ and expand-path@openssh.com.
// Framing is bounded (256 KiB per message, as sftp-server); a malformed message is a protocol anomaly.

final class SFTPServer {
    enum T {
        static let initReq: UInt8 = 1, version: UInt8 = 2, open: UInt8 = 3, close: UInt8 = 4, read: UInt8 = 5, write: UInt8 = 6
        static let lstat: UInt8 = 7, fstat: UInt8 = 8, setstat: UInt8 = 9, fsetstat: UInt8 = 10, opendir: UInt8 = 11
        static let readdir: UInt8 = 12, remove: UInt8 = 13, mkdir: UInt8 = 14, rmdir: UInt8 = 15, realpath: UInt8 = 16
        static let stat: UInt8 = 17, rename: UInt8 = 18, readlink: UInt8 = 19, symlink: UInt8 = 20
        static let status: UInt8 = 101, handle: UInt8 = 102, data: UInt8 = 103, name: UInt8 = 104, attrs: UInt8 = 105
        static let extended: UInt8 = 200, extendedReply: UInt8 = 201
    }
    enum Status: UInt32 { case ok = 0, eof, noSuchFile, permissionDenied, failure, badMessage, noConnection, connectionLost, opUnsupported
        var text: String {
            switch self {
            case .ok: return "Success"; case .eof: return "End of file"; case .noSuchFile: return "No such file"
            case .permissionDenied: return "Permission denied"; case .failure: return "Failure"; case .badMessage: return "Bad message"
            case .noConnection: return "No connection"; case .connectionLost: return "Connection lost"; case .opUnsupported: return "Operation unsupported"
            }
        }
    }
    enum Handle { case upload(path: String, writer: ArtifactWriter?), file(path: String, bytes: [UInt8]), dir(path: String, sent: Bool) }

    static let maxMessage = 256 * 1024

    unowned let channel: SSHChannel
    let shell: FakeShell
    var buf: [UInt8] = []
    var handles: [UInt32: Handle] = [:]
    var nextHandle: UInt32 = 0
    var uploaded: [String: Int] = [:]
    var initialised = false
    var broken = false
    let extensions: [(String, String)]

    init(channel: SSHChannel, shell: FakeShell, extensions: [(String, String)]) {
        self.channel = channel
        self.shell = shell
        self.extensions = extensions
    }

    func offers(_ ext: String) -> Bool { extensions.contains { $0.0 == ext } }

    func receive(_ b: [UInt8]) {
        guard !broken else { return }
        buf += b
        var off = 0
        while buf.count - off >= 4 {
            let len = Int(buf[off]) << 24 | Int(buf[off + 1]) << 16 | Int(buf[off + 2]) << 8 | Int(buf[off + 3])
            guard len >= 1, len <= SFTPServer.maxMessage else { fail("message length \(len)"); return }
            guard buf.count - off - 4 >= len else { break }
            let msg = Array(buf[(off + 4)..<(off + 4 + len)])
            off += 4 + len
            do { try handle(msg) } catch { fail("message \(msg[0]): \(error)"); return }
            if broken { return }
        }
        if off > 0 { buf.removeFirst(off) }
    }

    func fail(_ why: String) {
        broken = true
        channel.io.emit(channel.info.event(SSHEvents.anomaly, [("kind", "sftp_protocol"), ("detail", why)]))
        ended()
        channel.finish(1)
    }

    /// The channel closed: unfinished uploads are kept as they are.
    func ended() {
        for (_, h) in handles { if case .upload(let p, let w) = h { channel.uploaded(p, w, via: "sftp") } }
        handles.removeAll()
    }

    func send(_ w: SSHWriter) {
        var framed = SSHWriter()
        framed.u32(UInt32(w.bytes.count))
        framed.raw(w.bytes)
        channel.write(framed.bytes)
    }

    func status(_ id: UInt32, _ s: Status) {
        var w = SSHWriter(T.status)
        w.u32(id); w.u32(s.rawValue); w.string(s.text); w.string("")
        send(w)
    }

    func attrs(_ w: inout SSHWriter, dir: Bool, size: Int, path: String = "") {
        w.u32(0x0f)
        w.u64(UInt64(size))
        w.u32(0); w.u32(0)
        w.u32(dir ? (path == "/tmp" || path == "/var/tmp" ? 0o41777 : 0o40755) : 0o100644)
        let t = UInt32(truncatingIfNeeded: wallClockNs() / 1_000_000_000 - 86_400 * 40)
        w.u32(t); w.u32(t)
    }

    /// (is a directory, size) of a path, or nil when it does not exist.
    func lookup(_ path: String) -> (Bool, Int)? {
        if shell.isDirectory(path) { return (true, 4096) }
        if let f = shell.files[path] { return (false, f.utf8.count) }
        if let n = uploaded[path] { return (false, n) }
        return nil
    }

    func longname(_ name: String, dir: Bool, size: Int) -> String {
        let perms = dir ? "drwxr-xr-x" : "-rw-r--r--"
        let sz = String(size)
        return "\(perms)    \(dir ? 2 : 1) root     root     \(String(repeating: " ", count: max(0, 8 - sz.count)))\(sz) Oct 27 09:14 \(name)"
    }

    func path(_ raw: ArraySlice<UInt8>) -> String {
        let p = DecoyEvents.printable(raw, max: 4096)
        if p.isEmpty || p == "." { return shell.homeDirectory }
        return shell.resolve(p.hasPrefix("/") || p.hasPrefix("~") ? p : shell.homeDirectory + "/" + p)
    }

    func newHandle(_ h: Handle) -> [UInt8] {
        let id = nextHandle
        nextHandle &+= 1
        handles[id] = h
        return Array(String(id).utf8)
    }

    func handleID(_ r: inout SSHReader) throws -> UInt32? { UInt32(String(decoding: try r.string(max: 256), as: UTF8.self)) }

    func handle(_ msg: [UInt8]) throws {
        var r = SSHReader(msg, offset: 1)
        let type = msg[0]
        if type == T.initReq {
            _ = try r.u32()                                // the client's version: we answer 3 regardless
            initialised = true
            var w = SSHWriter(T.version)
            w.u32(3)
            for (k, v) in extensions { w.string(k); w.string(v) }
            send(w)
            return
        }
        guard initialised else { throw SSHWireError("request before SSH_FXP_INIT") }
        let id = try r.u32()
        switch type {
        case T.realpath:
            let p = path(try r.string(max: 4096))
            name(id, p, lookup(p) ?? (true, 4096))
        case T.stat, T.lstat:
            let p = path(try r.string(max: 4096))
            guard let (dir, size) = lookup(p) else { status(id, .noSuchFile); return }
            var w = SSHWriter(T.attrs); w.u32(id); attrs(&w, dir: dir, size: size, path: p); send(w)
        case T.fstat:
            guard let h = try handleID(&r), let hd = handles[h] else { status(id, .failure); return }
            var w = SSHWriter(T.attrs); w.u32(id)
            switch hd {
            case .upload(_, let a): attrs(&w, dir: false, size: a?.received ?? 0)
            case .file(_, let b): attrs(&w, dir: false, size: b.count)
            case .dir: attrs(&w, dir: true, size: 4096)
            }
            send(w)
        case T.open:
            let p = path(try r.string(max: 4096))
            let flags = try r.u32()
            if flags & 0x02 != 0 || flags & 0x08 != 0 {        // WRITE or CREAT
                if shell.isDirectory(p) { status(id, .failure); return }
                let a = ArtifactWriter(root: channel.info.artifactsDir, decky: channel.info.decky.name, service: "ssh", source: channel.info.client.description)
                handleReply(id, newHandle(.upload(path: p, writer: a)))
            } else if let f = shell.files[p] {
                handleReply(id, newHandle(.file(path: p, bytes: Array(f.utf8))))
            } else {
                status(id, lookup(p) != nil ? .permissionDenied : .noSuchFile)
            }
        case T.write:
            guard let h = try handleID(&r), case .upload(let p, let a)? = handles[h] else { status(id, .failure); return }
            _ = try r.u64()
            let data = try r.string(max: SFTPServer.maxMessage)
            a?.write(Array(data))
            uploaded[p] = a?.received ?? 0
            status(id, .ok)
        case T.read:
            guard let h = try handleID(&r), case .file(_, let bytes)? = handles[h] else { status(id, .failure); return }
            let off = try r.u64(), len = try r.u32()
            guard off < UInt64(bytes.count) else { status(id, .eof); return }
            let end = min(bytes.count, Int(off) + Int(min(len, 261_120)))
            var w = SSHWriter(T.data); w.u32(id); w.string(bytes[Int(off)..<end]); send(w)
        case T.close:
            guard let h = try handleID(&r), let hd = handles.removeValue(forKey: h) else { status(id, .failure); return }
            if case .upload(let p, let a) = hd { channel.uploaded(p, a, via: "sftp"); uploaded[p] = a?.received ?? 0 }
            status(id, .ok)
        case T.opendir:
            let p = path(try r.string(max: 4096))
            guard shell.isDirectory(p) else { status(id, lookup(p) == nil ? .noSuchFile : .failure); return }
            handleReply(id, newHandle(.dir(path: p, sent: false)))
        case T.readdir:
            guard let h = try handleID(&r), case .dir(let p, let sent)? = handles[h] else { status(id, .failure); return }
            if sent { status(id, .eof); return }
            handles[h] = .dir(path: p, sent: true)
            var names = [".", ".."] + (shell.entries(p) ?? [])
            for u in uploaded.keys where u.hasPrefix(p == "/" ? "/" : p + "/") && !u.dropFirst(p.count + 1).contains("/") {
                names.append(String(u.split(separator: "/").last ?? ""))
            }
            var w = SSHWriter(T.name); w.u32(id); w.u32(UInt32(names.count))
            for n in names {
                let full = n == "." ? p : n == ".." ? shell.resolve(p + "/..") : (p == "/" ? "/" + n : p + "/" + n)
                let (dir, size) = lookup(full) ?? (false, 0)
                w.string(n); w.string(longname(n, dir: dir, size: size)); attrs(&w, dir: dir, size: size)
            }
            send(w)
        case T.setstat, T.fsetstat, T.mkdir, T.remove, T.rmdir, T.rename:
            status(id, .ok)
        case T.readlink, T.symlink:
            status(id, .opUnsupported)
        case T.extended:
            let ext = String(decoding: try r.string(max: 256), as: UTF8.self)
            guard offers(ext) else { status(id, .opUnsupported); return }
            switch ext {
            case "limits@openssh.com":
                var w = SSHWriter(T.extendedReply); w.u32(id)
                w.u64(UInt64(SFTPServer.maxMessage)); w.u64(261_120); w.u64(261_120); w.u64(1024)
                send(w)
            case "expand-path@openssh.com":
                let p = path(try r.string(max: 4096))
                name(id, p, lookup(p) ?? (true, 4096))
            case "statvfs@openssh.com", "fstatvfs@openssh.com":
                var w = SSHWriter(T.extendedReply); w.u32(id)
                for v: UInt64 in [4096, 4096, 7_864_320, 5_242_880, 4_849_664, 1_966_080, 1_720_000, 1_720_000, 0, 2, 255] { w.u64(v) }
                send(w)
            case "posix-rename@openssh.com", "hardlink@openssh.com", "fsync@openssh.com", "lsetstat@openssh.com":
                status(id, .ok)
            case "home-directory":
                let u = DecoyEvents.printable(try r.string(max: 256), max: 64)
                let home = u == "root" ? "/root" : u == shell.user ? shell.homeDirectory : nil
                guard let home else { status(id, .failure); return }
                name(id, home, (true, 4096))
            case "users-groups-by-id@openssh.com":
                // two packed lists of uint32 ids in, two packed lists of names out ("" for unknown ids)
                func names(_ raw: ArraySlice<UInt8>, _ known: [UInt32: String]) throws -> [UInt8] {
                    var ids = SSHReader(Array(raw)), out = SSHWriter()
                    while !ids.atEnd { out.string(known[try ids.u32()] ?? "") }
                    return out.bytes
                }
                let users: [UInt32: String] = shell.user == "root" ? [0: "root"] : [0: "root", 1000: shell.user]
                let uids = try r.string(max: 65_536), gids = try r.string(max: 65_536)
                var w = SSHWriter(T.extendedReply); w.u32(id)
                w.string(try names(uids, users)); w.string(try names(gids, users))
                send(w)
            case "copy-data":
                guard let from = try handleID(&r), case .file(_, let bytes)? = handles[from] else { status(id, .failure); return }
                let off = Int(min(try r.u64(), UInt64(bytes.count))), len = try r.u64()
                guard let to = try handleID(&r), case .upload(let p, let a)? = handles[to] else { status(id, .failure); return }
                _ = try r.u64()
                let end = len == 0 ? bytes.count : min(bytes.count, off + Int(min(len, UInt64(bytes.count))))
                a?.write(Array(bytes[off..<end]))
                uploaded[p] = a?.received ?? 0
                status(id, .ok)
            default:
                status(id, .opUnsupported)
            }
        default:
            status(id, .opUnsupported)
        }
    }

    func handleReply(_ id: UInt32, _ h: [UInt8]) {
        var w = SSHWriter(T.handle); w.u32(id); w.string(h); send(w)
    }

    func name(_ id: UInt32, _ p: String, _ a: (Bool, Int)) {
        var w = SSHWriter(T.name); w.u32(id); w.u32(1)
        w.string(p); w.string(longname(p, dir: a.0, size: a.1)); attrs(&w, dir: a.0, size: a.1)
        send(w)
    }
}
