// FakeShell.swift: the shell an attacker gets after a decoy login (telnet now, SSH later). It answers
// from the decky's persona so uname, os-release, hostname and the prompt agree with the banner; it never
// runs anything and never fetches a URL: downloads are recorded and time out as a firewalled host would.

public struct ShellResult {
    public var output: String = ""
    public var urls: [String] = []
    public var exit = false
}

public final class FakeShell {
    public let user: String
    let persona: DeckySpec
    public private(set) var cwd: String
    var env: [String: String] = [:]
    let home: String

    public init(user: String, persona: DeckySpec) {
        self.user = user
        self.persona = persona
        home = user == "root" ? "/root" : "/home/\(user)"
        cwd = home
    }

    var hostShort: String { String(persona.hostname.split(separator: ".").first ?? "localhost") }
    var distro: DistroProfile { persona.distroProfile }

    public var prompt: String {
        let dir = cwd == home ? "~" : cwd
        return "\(user)@\(hostShort):\(dir)\(user == "root" ? "#" : "$") "
    }

    /// bash 5.1 and later (readline 8.1) turn bracketed-paste mode on before each prompt and off once a line
    /// is read, so a real pty shows "\e[?2004h" + prompt and, after the echoed CR LF, "\e[?2004l\r" (measured
    /// on Debian 12). Ubuntu 20.04's bash 5.0, CentOS 7's 4.2 and Alpine's ash do not.
    public var bracketedPaste: Bool { !["ubuntu20", "centos7", "alpine"].contains(distro.slug) }
    static let pasteOn = "\u{1b}[?2004h", pasteOff = "\u{1b}[?2004l\r"
    /// What an interactive terminal shows when the shell waits for a line.
    public var ttyPrompt: String { (bracketedPaste ? FakeShell.pasteOn : "") + prompt }
    /// What follows the echoed end of a line before any output.
    public var ttyLineEnd: String { bracketedPaste ? FakeShell.pasteOff : "" }

    public var motd: String {
        switch distro.id {
        case "ubuntu":
            return "Welcome to \(distro.prettyName) (GNU/Linux \(distro.kernel) x86_64)\r\n\r\n * Documentation:  https://help.ubuntu.com\r\n * Management:     https://landscape.canonical.com\r\n * Support:        https://ubuntu.com/pro\r\n\r\n"
        case "debian", "kali":
            return "Linux \(hostShort) \(distro.kernel) \(distro.kernelBuild) x86_64\r\n\r\nThe programs included with the Debian GNU/Linux system are free software;\r\nthe exact distribution terms for each program are described in the\r\nindividual files in /usr/share/doc/*/copyright.\r\n\r\nDebian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\r\npermitted by applicable law.\r\n"
        default:
            return ""
        }
    }

    var uid: String { user == "root" ? "0" : "1000" }

    var osRelease: String {
        let names = ["debian": "Debian GNU/Linux", "ubuntu": "Ubuntu", "rocky": "Rocky Linux", "centos": "CentOS Linux",
                     "alpine": "Alpine Linux", "fedora": "Fedora Linux", "kali": "Kali GNU/Linux", "arch": "Arch Linux"]
        let urls = ["debian": "https://www.debian.org/", "ubuntu": "https://www.ubuntu.com/", "rocky": "https://rockylinux.org/",
                    "centos": "https://www.centos.org/", "alpine": "https://alpinelinux.org/", "fedora": "https://fedoraproject.org/",
                    "kali": "https://www.kali.org/", "arch": "https://archlinux.org/"]
        var s = "PRETTY_NAME=\"\(distro.prettyName)\"\nNAME=\"\(names[distro.id] ?? distro.id)\"\n"
        if !distro.versionID.isEmpty { s += "VERSION_ID=\"\(distro.versionID)\"\n" }
        s += "ID=\(distro.id)\n"
        if distro.id == "ubuntu" { s += "ID_LIKE=debian\n" }
        s += "HOME_URL=\"\(urls[distro.id] ?? "")\"\n"
        return s
    }

    var files: [String: String] {
        [
            "/etc/os-release": osRelease,
            "/usr/lib/os-release": osRelease,
            "/etc/hostname": persona.hostname + "\n",
            "/etc/issue": "\(distro.prettyName) \\n \\l\n\n",
            "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nsshd:x:105:65534::/run/sshd:/usr/sbin/nologin\n" + (user == "root" ? "" : "\(user):x:1000:1000:\(user),,,:/home/\(user):/bin/bash\n"),
            "/proc/version": "Linux version \(distro.kernel) (buildd@lcy02-amd64) (gcc (GCC) 12.2.0) \(distro.kernelBuild)\n",
        ]
    }

    let dirs: [String: [String]] = [
        "/": ["bin", "boot", "dev", "etc", "home", "lib", "lib64", "media", "mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var"],
        "/etc": ["hostname", "hosts", "issue", "os-release", "passwd", "shadow", "ssh"],
        "/tmp": [], "/var": ["backups", "cache", "lib", "log", "tmp", "www"], "/home": [], "/root": [], "/usr": ["bin", "lib", "local", "sbin", "share"],
    ]

    /// The persona filesystem, for SFTP/SCP: directories and their entries, files and their contents.
    /// The persona's directories and the user's home (which /home lists); `cd`, `ls` and SFTP agree on them.
    func isDirectory(_ path: String) -> Bool { dirs[path] != nil || path == home }
    func entries(_ path: String) -> [String]? {
        if path == "/home" && home.hasPrefix("/home/") { return [user] }
        return dirs[path] ?? (isDirectory(path) ? [] : nil)
    }
    var homeDirectory: String { home }

    func resolve(_ p: String) -> String {
        let path = p.hasPrefix("~") ? home + p.dropFirst() : p
        var parts = path.hasPrefix("/") ? [] : cwd.split(separator: "/").map(String.init)
        for c in path.split(separator: "/") {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(String(c))
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Runs one command line (`;`, `&&`, `||` and `|` split it; the last stage of a pipe prints).
    public func run(_ line: String) -> ShellResult {
        var r = ShellResult()
        for part in splitCommands(line) {
            let stages = part.split(separator: "|").map { String($0).trimmingSpaces }
            for (i, st) in stages.enumerated() {
                let out = single(st, &r)
                if i == stages.count - 1 { r.output += out }
                if r.exit { return r }
            }
        }
        return r
    }

    func splitCommands(_ line: String) -> [String] {
        var out: [String] = [], cur = ""
        var chars = Array(line)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == ";" || (c == "&" && chars.first == "&") || (c == "|" && chars.first == "|") {
                if c != ";" { chars = chars.dropFirst() }
                out.append(cur); cur = ""
            } else { cur.append(c) }
        }
        out.append(cur)
        return out.map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    }

    func single(_ cmd: String, _ r: inout ShellResult) -> String {
        let argv = cmd.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { String($0).trimming("'\"") }
        guard let name = argv.first else { return "" }
        let args = Array(argv.dropFirst())
        let base = name.split(separator: "/").last.map(String.init) ?? name
        switch base {
        case "uname":
            if args.contains("-a") { return "Linux \(hostShort) \(distro.kernel) \(distro.kernelBuild) x86_64 GNU/Linux\r\n" }
            if args.contains("-r") { return distro.kernel + "\r\n" }
            if args.contains("-n") { return hostShort + "\r\n" }
            if args.contains("-m") || args.contains("-p") { return "x86_64\r\n" }
            return "Linux\r\n"
        case "id":
            return user == "root" ? "uid=0(root) gid=0(root) groups=0(root)\r\n" : "uid=1000(\(user)) gid=1000(\(user)) groups=1000(\(user)),27(sudo)\r\n"
        case "whoami": return user + "\r\n"
        case "hostname": return hostShort + "\r\n"
        case "pwd": return cwd + "\r\n"
        case "cd":
            let t = resolve(args.first ?? home)
            if isDirectory(t) { cwd = t; return "" }
            return "-bash: cd: \(args.first ?? ""): \(files[t] != nil ? "Not a directory" : "No such file or directory")\r\n"
        case "ls":
            let arg = args.first(where: { !$0.hasPrefix("-") })
            let t = resolve(arg ?? cwd)
            if let arg, files[t] != nil { return arg + "\r\n" }
            guard let entries = entries(t) else {
                return "ls: cannot access '\(arg ?? t)': No such file or directory\r\n"
            }
            return entries.isEmpty ? "" : entries.joined(separator: "  ") + "\r\n"
        case "cat":
            var out = ""
            for a in args where !a.hasPrefix("-") {
                let p = resolve(a)
                if let f = files[p] { out += f.replacingOccurrences(of: "\n", with: "\r\n") }
                else if p == "/etc/shadow" && user != "root" { out += "cat: \(a): Permission denied\r\n" }
                else { out += "cat: \(a): No such file or directory\r\n" }
            }
            return out
        case "echo": return args.joined(separator: " ") + "\r\n"
        case "ps":
            return "    PID TTY          TIME CMD\r\n   \(2000 + Int(persona.ip.value & 0xfff)) pts/0    00:00:00 bash\r\n   \(2001 + Int(persona.ip.value & 0xfff)) pts/0    00:00:00 ps\r\n"
        case "w", "uptime": return " 09:14:02 up 41 days,  3:12,  1 user,  load average: 0.08, 0.03, 0.01\r\n"
        case "exit", "logout": r.exit = true; return ""
        case "export": for a in args { if let e = a.firstIndex(of: "=") { env[String(a[..<e])] = String(a[a.index(after: e)...]) } }; return ""
        case "wget", "curl", "tftp", "ftpget":
            let urls = args.filter { $0.contains("://") || $0.contains(".") && !$0.hasPrefix("-") }
            r.urls += urls
            guard let u = urls.first else { return base == "wget" ? "wget: missing URL\r\n" : "curl: try 'curl --help' for more information\r\n" }
            let host = u.split(separator: "/").dropFirst(u.contains("://") ? 1 : 0).first.map(String.init) ?? u
            return base == "wget" ? "--\(localTimestamp())--  \(u)\r\nResolving \(host)... failed: Temporary failure in name resolution.\r\nwget: unable to resolve host address '\(host)'\r\n"
                : "curl: (6) Could not resolve host: \(host)\r\n"
        case "chmod", "touch", "mkdir", "rm", "cp", "mv", "history", "unset", "clear", "sleep", "kill", "true": return ""
        case "sudo": return user == "root" ? single(args.joined(separator: " "), &r) : "[sudo] password for \(user): \r\n"
        case "which", "command":
            let known = ["uname", "id", "ls", "cat", "echo", "wget", "curl", "ps", "bash", "sh"]
            return args.filter { known.contains($0) }.map { "/usr/bin/\($0)\r\n" }.joined()
        case "sh", "bash": return args.isEmpty ? "" : (args.first == "-c" ? run(args.dropFirst().joined(separator: " ")).output : "")
        default:
            return "-bash: \(name): command not found\r\n"
        }
    }
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        guard !a.isEmpty else { return self }
        var out = "", rest = self[...]
        while let r = rest.range(of: a) {
            out += rest[..<r.lowerBound]
            out += b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func range(of needle: String) -> Range<Index>? {
        let n = Array(needle.utf8)
        guard !n.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].utf8.starts(with: n) {
                return i..<self.utf8.index(i, offsetBy: n.count)
            }
            i = index(after: i)
        }
        return nil
    }
}

/// `2024-06-01 09:14:02` (UTC; a decky's clock is UTC).
func localTimestamp() -> String {
    var out: [UInt8] = []
    appendUTCTime(ns: wallClockNs(), iso: false, into: &out)
    return String(decoding: out, as: UTF8.self)
}
