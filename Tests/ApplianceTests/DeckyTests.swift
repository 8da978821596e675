// DeckyTests.swift: planning (every problem listed at once, INI semantics of spec §12.6), personas, and
// each decoy driven in-process with a real client's bytes and with hostile bytes (invalid UTF-8, oversize
// lines, truncation, byte-at-a-time drip): replies as the real server words them, events with their
// envelope, no crash, bounded buffers. The live side (namespaces, real clients, nmap) is
// Tests/Integration/deckies_*.sh.
@testable import Appliance
import Fingerprint
import Testing

private let host = HostFacts(interfaces: ["br0", "eth0"], networks: ["br0": [(IPv4("10.9.0.1")!, 24)], "eth0": [(IPv4("192.168.5.10")!, 24)]],
                             defaultGateway: [:])

private func spec(_ name: String = "decky-01", services: [String], distro: String = "debian", config: [String: [String: String]] = [:]) -> DeckySpec {
    DeckySpec(name: name, ip: IPv4("10.9.0.2")!, mac: "d4:be:d9:00:00:01", hostname: "SRV-ALPHA-12", services: services, distro: distro,
              archetype: nil, nmapOS: "linux", serviceConfig: config)
}

/// A session with its I/O captured: feed bytes, read what went out and the events (SSHDecoyTests too).
final class Harness {
    let io = DecoyIO()
    let session: DecoySession
    var out: [UInt8] = []
    var events: [SensorEvent] = []
    var closed = false
    var timers: [() -> Void] = []

    /// One decoy server's per-decky state for every harness: two sessions of a decky see each other's changes.
    static let states = DeckyStates()

    init(_ service: String, decky: DeckySpec? = nil) {
        let d = decky ?? spec(services: [service])
        let info = DecoySessionInfo(decky: d, service: service, client: IPAddress(parsing: "10.9.0.1")!, clientPort: 40000,
                                    local: IPAddress(parsing: "10.9.0.2")!, localPort: DecoyRegistry.decoy(service)!.ports[0], artifactsDir: nil,
                                    states: Self.states)
        session = DecoyRegistry.decoy(service)!.make(info)
        session.start(io)
        drain()
    }

    func drain() {
        let (outs, evs) = io.drain()
        events += evs
        for o in outs {
            switch o {
            case .bytes(let b, _): out += b
            case .close: closed = true
            case .call(_, let body): timers.append(body)
            }
        }
    }

    @discardableResult func send(_ s: String) -> String { send(Array(s.utf8)) }
    var outBytes: [UInt8] { out }
    @discardableResult func send(_ b: [UInt8]) -> String {
        out.removeAll()
        session.receive(b, io)
        drain()
        return String(decoding: out, as: UTF8.self)
    }
    func drip(_ s: String) -> String {
        var all: [UInt8] = []
        for b in s.utf8 { send([b]); all += out }
        return String(decoding: all, as: UTF8.self)
    }
    func ids() -> [String] { events.map(\.spec.id) }
    /// Runs what the session scheduled (as the event loop would once the delay passed).
    func fireTimers() -> String {
        out.removeAll()
        let t = timers
        timers = []
        for body in t { body() }
        drain()
        return String(decoding: out, as: UTF8.self)
    }
}

@Suite struct DeckyPlanTests {
    @Test func flagsPlanAddressesPersonasAndStableMACs() throws {
        var r = DeployRequest()
        r.count = 3
        r.interface = "br0"
        r.services = ["http", "ftp"]
        let (net, specs) = try DeckyPlanner.plan(r, host: host, existing: [], existingNetwork: nil)
        #expect(net.subnet.description == "10.9.0.0/24")
        #expect(specs.map(\.name) == ["decky-01", "decky-02", "decky-03"])
        #expect(specs.map(\.ip.description) == ["10.9.0.2", "10.9.0.3", "10.9.0.4"])     // .1 is the host
        #expect(Set(specs.map(\.mac)).count == 3)
        let again = try DeckyPlanner.plan(r, host: host, existing: [], existingNetwork: nil).1
        #expect(again == specs, "planning is deterministic: same names, same MACs and hostnames")
        // -n is declarative: with decky-02 already there (elsewhere), -n 3 keeps it and fills in the rest.
        var moved = specs[1]
        moved.ip = IPv4("10.9.0.40")!
        let completed = try DeckyPlanner.plan(r, host: host, existing: [moved], existingNetwork: FleetNetwork(interface: "br0", subnet: IPv4Network("10.9.0.0/24")!, gateway: nil)).1
        #expect(completed.map(\.name) == ["decky-01", "decky-02", "decky-03"] && completed[1].ip == moved.ip && completed[1].mac == moved.mac)
        for s in specs { #expect(OUI.general.contains(UInt32(s.mac.prefix(8).split(separator: ":").map { UInt32($0, radix: 16)! }.reduce(0) { $0 << 8 | $1 }))) }
        // JSON round trip (the store keeps this).
        for s in specs { #expect(DeckySpec(json: s.json) == s) }
    }

    @Test func everyProblemIsListedBeforeAnythingIsCreated() {
        var r = DeployRequest()
        r.ini = ("""
        [general]
        net = 10.9.0.0/24
        interface = nosuch0
        colour = blue

        [web]
        ip = 10.9.0.7
        services = http,gopher
        [web2]
        ip = 10.9.0.7
        archetype = mainframe
        [web]
        services = smb
        [db]
        ip = 10.10.0.5
        amount = 3
        nmap_os = amiga
        garbage line
        [db.ssh]
        persona = solaris9
        """, "bad.ini")
        do {
            _ = try DeckyPlanner.plan(r, host: host, existing: [], existingNetwork: nil)
            Issue.record("a bad INI was accepted")
        } catch {
            let all = error.problems.joined(separator: "\n")
            for needle in ["interface nosuch0 does not exist", "unknown key 'colour'", "unknown service 'gopher'",                            "unknown archetype 'mainframe'", "'web' is given twice", "10.9.0.7 is already used by web", "service 'smb' is not available", "amount > 1 cannot be combined with ip=",
                           "unknown nmap_os 'amiga'", "bad.ini:18: expected 'key = value'", "unknown ssh persona 'solaris9'"] {
                #expect(all.contains(needle), "missing: \(needle)\n\(all)")
            }
        }
    }

    @Test func overlappingSubnetsAndTakenAddressesAreRefused() {
        var r = DeployRequest()
        r.interface = "br0"
        r.subnet = "192.168.5.0/25"           // overlaps eth0's 192.168.5.0/24
        r.count = 1
        #expect(throws: PlanError.self) { try DeckyPlanner.plan(r, host: host, existing: [], existingNetwork: nil) }
        r.subnet = nil
        r.ini = ("[a]\nip = 10.9.0.1\nservices = http\n", "x.ini")   // the host's own address
        do { _ = try DeckyPlanner.plan(r, host: host, existing: [], existingNetwork: nil); Issue.record("accepted") } catch {
            #expect(error.problems.contains { $0.contains("10.9.0.1 is already used by this host") })
        }
        let net = FleetNetwork(interface: "eth0", subnet: IPv4Network("192.168.5.0/24")!, gateway: nil)
        r.ini = nil
        do { _ = try DeckyPlanner.plan(r, host: host, existing: [], existingNetwork: net); Issue.record("accepted") } catch {
            #expect(error.problems.contains { $0.contains("already deployed on eth0") })
        }
    }

    @Test func iniGroupsExpandAndSubsectionsApplyToMembers() throws {
        var r = DeployRequest()
        r.ini = ("""
        [general]
        net = 10.9.0.0/24
        interface = br0
        [web]
        amount = 3
        services = http
        [web.http]
        server_header = Apache/2.4.57 (Debian)
        [solo]
        ip = 10.9.0.50
        archetype = database-server
        """, "ok.ini")
        let (_, specs) = try DeckyPlanner.plan(r, host: host, existing: [], existingNetwork: nil)
        #expect(specs.map(\.name) == ["web-01", "web-02", "web-03", "solo"])
        #expect(specs.prefix(3).allSatisfy { $0.config("http", "server_header") == "Apache/2.4.57 (Debian)" })
        let solo = specs[3]
        #expect(solo.ip.description == "10.9.0.50")
        #expect(solo.services == ["mysql", "redis"], "the archetype's available services")
        #expect(solo.archetype == "database-server" && solo.nmapOS == "linux")
    }

    @Test func personasAndPoliciesParse() {
        #expect(OSProfile.resolve("embedded").ttl == 255 && OSProfile.resolve("nope").slug == "linux")
        #expect(CredentialPolicy("after:3", default: .never).accepts(user: "a", password: [], attempt: 3))
        #expect(!CredentialPolicy("after:3", default: .never).accepts(user: "a", password: [], attempt: 2))
        let fixed = CredentialPolicy("root:toor, admin:*", default: .never)
        #expect(fixed.accepts(user: "root", password: Array("toor".utf8), attempt: 1))
        #expect(!fixed.accepts(user: "root", password: Array("x".utf8), attempt: 1))
        #expect(fixed.accepts(user: "admin", password: Array("anything".utf8), attempt: 1))
        for s in ["", "Zg==", "Zm8=", "Zm9v", "\u{0}\u{ff}ab"] {
            let b = Array(s.utf8)
            #expect(Base64.decode(Base64.encode(b)) == b)
        }
        #expect(Base64.decode("Zm9v!") == nil && Base64.decode("Z=9v") == nil)
        var lb = LineBuffer(max: 8)
        var got: [(String, Bool)] = []
        lb.feed(Array("short\r\nwaytoolongline\nok\n".utf8)) { got.append((String(decoding: $0, as: UTF8.self), $1)) }
        #expect(got.map(\.0) == ["short", "waytoolo", "ok"] && got.map(\.1) == [false, true, false])
    }
}

@Suite struct DecoyProtocolTests {
    @Test func ftpSpeaksVsftpdAndRecordsLogins() {
        let h = Harness("ftp")
        #expect(String(decoding: h.out, as: UTF8.self) == "220 (vsFTPd 3.0.3)\r\n")
        #expect(h.send("SYST\r\n") == "530 Please login with USER and PASS.\r\n")
        #expect(h.send("USER root\r\n") == "331 Please specify the password.\r\n")
        #expect(h.send("PASS hunter2\r\n") == "530 Login incorrect.\r\n")
        #expect(h.send("USER anonymous\r\nPASS a@b\r\n").hasSuffix("230 Login successful.\r\n"))
        #expect(h.send("SYST\r\n") == "215 UNIX Type: L8\r\n")
        #expect(h.send("LIST\r\n") == "425 Use PORT or PASV first.\r\n")
        let failed = h.events.first { $0.spec.id == "ftp.login.failed" }
        #expect(failed?.value("username") == "root" && failed?.value("secret_b64") == Base64.encode(Array("hunter2".utf8)))
        #expect(failed?.value("session_id")?.count == 36 && failed?.value("transport") == "tcp")
        #expect(h.ids().contains("ftp.login.success"))
    }

    @Test func httpServesNginxPagesAndCapturesCredentials() {
        let h = Harness("http", decky: spec(services: ["http"], distro: "ubuntu22"))
        let r = h.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(r.hasPrefix("HTTP/1.1 404 Not Found\r\nServer: nginx/1.18.0 (Ubuntu)\r\n"))
        #expect(r.hasSuffix("<hr><center>nginx/1.18.0 (Ubuntu)</center>\r\n</body>\r\n</html>\r\n"))
        let basic = h.send("GET /admin HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \(Base64.encode(Array("admin:s3cret".utf8)))\r\n\r\n")
        #expect(basic.hasPrefix("HTTP/1.1 401 Unauthorized"))
        _ = h.send("POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   "9\r\nuser=bob&\r\nd\r\npass=p%40ss+1\r\n0\r\n\r\n")
        let logins = h.events.filter { $0.spec.id == "http.login.attempt" }
        #expect(logins.map { $0.value("mechanism") } == ["basic", "form"])
        #expect(logins[0].value("username") == "admin" && logins[0].value("secret_printable") == "s3cret")
        #expect(logins[1].value("username") == "bob" && logins[1].value("secret_printable") == "p@ss 1")
        // An Apache persona gets Apache's page, not nginx's.
        let a = Harness("http", decky: spec(services: ["http"], config: ["http": ["server_header": "Apache/2.4.57 (Debian)"]]))
        #expect(a.send("GET /x HTTP/1.0\r\n\r\n").contains("<address>Apache/2.4.57 (Debian) Server at 10.9.0.2 Port 80</address>"))
        #expect(a.closed, "HTTP/1.0 without keep-alive closes")
    }

    @Test func telnetFirstBytesAreLinuxTelnetdNotCowrie() {
        let h = Harness("telnet")
        #expect(Array(h.out.prefix(12)) == [255, 253, 24, 255, 253, 32, 255, 253, 35, 255, 253, 39])
        let sub = h.send([255, 251, 24, 255, 251, 31])         // WILL TTYPE, WILL NAWS -> SB TTYPE SEND, then the prompt
        #expect(h.out.starts(with: [255, 250, 24, 1, 255, 240]))
        let prompt = sub
        #expect(prompt.contains("Debian GNU/Linux 12\r\nSRV-ALPHA-12 login: "))
        _ = h.drip("root\r\n")
        _ = h.send("admin\r\n")
        let shell = h.send("uname -a; id\r\n")
        #expect(shell.contains("Linux SRV-ALPHA-12 6.1.0-21-amd64") && shell.contains("uid=0(root)"))
        #expect(h.ids().contains("telnet.login.success") && h.ids().contains("telnet.command.input"))
        #expect(h.events.first { $0.spec.id == "telnet.command.input" }?.value("input") == "uname -a; id")
    }

    @Test func lineDisciplineEditsAsACookedTTY() {
        var ld = LineDiscipline(maxLine: 8)
        var echo: [UInt8] = []
        func type(_ s: [UInt8], echoing: Bool = true) -> [LineDiscipline.Input] { s.compactMap { ld.feed($0, echoing: echoing, echo: &echo) } }
        #expect(type(Array("lx\u{7f}s\r\n".utf8)) == [.line(Array("ls".utf8), truncated: false)], "erase, CR LF is one end")
        #expect(echo == Array("lx\u{8} \u{8}s\r\n".utf8))
        echo = []
        #expect(type(Array("abc".utf8) + [0x15] + Array("id\r".utf8) + [0]) == [.line(Array("id".utf8), truncated: false)], "kill, CR NUL")
        #expect(echo == Array("abc\u{8}\u{8}\u{8}   \u{8}\u{8}\u{8}id\r\n".utf8))
        echo = []
        #expect(type(Array("secret\r".utf8), echoing: false) == [.line(Array("secret".utf8), truncated: false)] && echo.isEmpty)
        #expect(type([0x09, 0x1b] + Array("[A\r".utf8)) == [.line(Array("[A".utf8), truncated: false)], "control bytes are neither kept nor echoed")
        #expect(type(Array("0123456789\r".utf8)) == [.line(Array("01234567".utf8), truncated: true)], "bounded")
        #expect(type(Array("x".utf8) + [0x04, 0x03, 0x04]) == [.interrupt, .endOfFile], "^D only on an empty line; ^C drops the line")
    }

    @Test func telnetShellShowsBashsBracketedPasteWhereBashDoes() {
        for (distro, paste) in [("debian", true), ("rocky9", true), ("centos7", false), ("alpine", false)] {
            let h = Harness("telnet", decky: spec(services: ["telnet"], distro: distro))
            h.send([255, 251, 24, 255, 251, 31])
            let banner = h.send("root\r\nadmin\r\n")
            let echo = h.send("id\r\n")
            let pasteOn = "\u{1b}[?2004h", pasteOff = "\u{1b}[?2004l\r"
            #expect(banner.hasSuffix((paste ? pasteOn : "") + "root@SRV-ALPHA-12:~# ") && banner.contains(pasteOn) == paste, "\(distro)")
            #expect(echo.hasPrefix("id\r\n" + (paste ? pasteOff : "") + "uid=0(root)"), "\(distro): \(echo.debugDescription)")
            let bye = h.send([0x04])
            #expect(bye == (paste ? pasteOff : "") + "logout\r\n" && h.closed, "\(distro)")
        }
    }

    @Test func fakeShellDirectoriesAgreeAcrossCdLsAndSFTP() {
        let sh = FakeShell(user: "admin", persona: spec("shell", services: ["ssh"]))
        #expect(sh.run("pwd").output == "/home/admin\r\n" && sh.run("ls /home").output == "admin\r\n")
        #expect(sh.run("cd /etc; pwd").output == "/etc\r\n")
        #expect(sh.run("cd /etc/passwd").output == "-bash: cd: /etc/passwd: Not a directory\r\n")
        #expect(sh.run("cd /home/bob").output == "-bash: cd: /home/bob: No such file or directory\r\n")
        #expect(sh.run("cd /homework").output == "-bash: cd: /homework: No such file or directory\r\n")
        #expect(sh.run("ls /etc/passwd").output == "/etc/passwd\r\n")
        #expect(sh.run("ls /home/bob").output == "ls: cannot access '/home/bob': No such file or directory\r\n")
        #expect(sh.run("cd; pwd").output == "/home/admin\r\n")
        for p in ["/", "/etc", "/home", "/home/admin", "/tmp"] { #expect(sh.isDirectory(p) && sh.entries(p) != nil, "\(p)") }
        for p in ["/home/bob", "/homework", "/etc/passwd"] { #expect(!sh.isDirectory(p) && sh.entries(p) == nil, "\(p)") }
        let root = FakeShell(user: "root", persona: spec("shell", services: ["ssh"]))
        #expect(root.run("ls /home").output == "" && root.run("cd /root; pwd").output == "/root\r\n")
    }

    @Test func smtpHarvestsAuthAndDeniesRelay() {
        let h = Harness("smtp")
        #expect(String(decoding: h.out, as: UTF8.self) == "220 SRV-ALPHA-12.localdomain ESMTP Postfix (Debian/GNU)\r\n".replacingOccurrences(of: "SRV-ALPHA-12.", with: "srv-alpha-12."))
        #expect(h.send("EHLO x\r\n").contains("250-AUTH PLAIN LOGIN\r\n"))
        #expect(h.send("AUTH PLAIN \(Base64.encode(Array("\u{0}admin\u{0}pw".utf8)))\r\n") == "535 5.7.8 Error: authentication failed: authentication failure\r\n")
        _ = h.send("MAIL FROM:<a@b.org>\r\n")
        #expect(h.send("RCPT TO:<x@example.com>\r\n") == "554 5.7.1 <x@example.com>: Relay access denied\r\n")
        #expect(h.send("DATA\r\n") == "554 5.5.1 Error: no valid recipients\r\n")
        let auth = h.events.first { $0.spec.id == "smtp.auth.attempt" }
        #expect(auth?.value("username") == "admin" && auth?.value("secret_printable") == "pw" && auth?.value("mechanism") == "PLAIN")
    }

    @Test func redisAnswersInfoAndRecordsAttacks() {
        let h = Harness("redis")
        let info = h.send("*1\r\n$4\r\ninfo\r\n")
        #expect(info.hasPrefix("$") && info.contains("# Server\r\nredis_version:7.0.15\r\n") && info.contains("# Keyspace\r\n"))
        #expect(h.send("SLAVEOF 10.9.0.1 6379\r\n") == "+OK\r\n")
        #expect(h.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\u{0}1\r\n") == "+OK\r\n")
        #expect(h.send("FOO a\r\n") == "-ERR unknown command 'FOO', with args beginning with: 'a' \r\n")
        #expect(h.ids().contains("redis.replication_target") && h.ids().contains("redis.payload"))
        // A second connection to the same decky sees the first one's write.
        let h2 = Harness("redis")
        #expect(h2.send("GET k\r\n") == "$3\r\nv\u{0}1\r\n")
        #expect(h2.send("*2\r\n$3\r\nGET\r\n$99999999\r\n") == "-ERR Protocol error: invalid bulk length\r\n" && h2.closed)
    }

    @Test func mysqlGreetsLikeEightZeroAndRefusesWith1045() {
        let h = Harness("mysql", decky: spec(services: ["mysql"], distro: "ubuntu22"))
        let g = h.out
        #expect(g[4] == 10 && String(decoding: g[5..<(5 + 23)], as: UTF8.self) == "8.0.36-0ubuntu0.22.04.1")
        #expect(String(decoding: g.suffix(22).dropLast(), as: UTF8.self) == "caching_sha2_password")
        let caps = UInt32(g[5 + 24 + 4 + 9]) | UInt32(g[5 + 24 + 4 + 10]) << 8
        #expect(caps & 0x800 == 0, "CLIENT_SSL must not be offered without TLS")
        // HandshakeResponse41: caps (41 | secure | plugin | connect_with_db | attrs), user, 32-byte response, db, plugin, attrs.
        var p: [UInt8] = [0x08, 0x82, 0x18, 0x00] + [0, 0, 0, 1] + [45] + [UInt8](repeating: 0, count: 23)
        p += Array("root".utf8) + [0] + [32] + [UInt8](repeating: 0xab, count: 32) + Array("shop".utf8) + [0]
        p += Array("caching_sha2_password".utf8) + [0]
        let attrs: [UInt8] = [12] + Array("_client_name".utf8) + [10] + Array("libmariadb".utf8)
        p += [UInt8(attrs.count)] + attrs
        let reply = h.send([UInt8(p.count), 0, 0, 1] + p)
        #expect(reply.contains("#28000Access denied for user 'root'@'10.9.0.1' (using password: YES)") && h.closed)
        let e = h.events.first { $0.spec.id == "mysql.login.failed" }
        #expect(e?.value("database") == "shop" && e?.value("client_name") == "libmariadb" && e?.value("secret_kind") == "caching_sha2_password")
    }

    @Test func mqttAnswersSubscribersWithRetainedTopics() {
        let h = Harness("mqtt", decky: spec(services: ["mqtt"], config: ["mqtt": ["persona": "solar_farm"]]))
        // CONNECT 3.1.1, clean session, client id "c1", user "u", password "p"
        let connect: [UInt8] = [0x10, 20, 0, 4] + Array("MQTT".utf8) + [4, 0xc2, 0, 60, 0, 2] + Array("c1".utf8) + [0, 1, 0x75, 0, 1, 0x70]
        #expect(h.send(connect).utf8.elementsEqual([0x20, 2, 0, 0]))
        // SUBSCRIBE pid 7 to "$SYS/broker/version" QoS 0 and "solar/#"
        let sub: [UInt8] = [0, 7, 0, 19] + Array("$SYS/broker/version".utf8) + [0, 0, 7] + Array("solar/#".utf8) + [1]
        h.out.removeAll()
        h.session.receive([0x82, UInt8(sub.count)] + sub, h.io)
        h.drain()
        #expect(Array(h.out.prefix(6)) == [0x90, 4, 0, 7, 0, 1])
        let text = String(decoding: h.out, as: UTF8.self)
        #expect(text.contains("mosquitto version 2.0.11") && text.contains("solar/inverter1/power_kw"))
        #expect(!text.contains("plant/"), "only the persona's topics")
        #expect(h.events.first { $0.spec.id == "mqtt.connect" }?.value("username") == "u")
        #expect(MQTTDecoy.matches("a/+/c", "a/b/c") && !MQTTDecoy.matches("#", "$SYS/x") && MQTTDecoy.matches("a/#", "a"))
        // A packet claiming 2^28 bytes is refused before any allocation.
        let bad = Harness("mqtt")
        _ = bad.send([0x10, 0xff, 0xff, 0xff, 0x7f])
        #expect(bad.closed && bad.events.contains { $0.value("anomaly") == "packet_too_large" })
    }

    /// Hostile bytes for every decoy: no crash, no unbounded buffer, the session still logs.
    @Test func everyDecoySurvivesHostileBytes() {
        var rng = SeededRandom(seed: "hostile")
        let garbage = (0..<20_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let longLine = [UInt8](repeating: 0x41, count: 100_000) + [0x0d, 0x0a]
        let invalidUTF8: [UInt8] = [0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x0d, 0x0a]
        for svc in DecoyRegistry.availableSlugs {
            for (n, input) in [garbage, longLine, invalidUTF8, Array(garbage.prefix(3))].enumerated() {
                let h = Harness(svc)
                _ = h.send(input)
                for chunk in stride(from: 0, to: min(input.count, 300), by: 1) { _ = h.send([input[chunk]]) }   // slow drip
                _ = h.fireTimers()
                h.session.end(reason: "test", h.io)
                h.drain()
                // Whole lines (and any MySQL packet header) always leave an event of the session's own; the
                // server adds session.connect/closed around every connection regardless.
                if n == 1 || n == 2 || svc == "mysql" { #expect(!h.events.isEmpty || svc == "telnet", "\(svc): hostile input \(n) left no trace") }
                for e in h.events {
                    #expect(e.value("session_id") != nil, "\(svc): \(e.spec.id) without envelope")
                    #expect(e.fields.allSatisfy { $0.1.utf8.count <= 16_384 }, "\(svc): unbounded field in \(e.spec.id)")
                }
            }
        }
    }

    @Test func scanTrackerReportsOncePerSourceDeckyAndWindow() {
        var t = ScanTracker()
        let d = spec(services: ["http"])
        let src = IPAddress(parsing: "10.9.0.66")!
        var events: [SensorEvent] = []
        for (i, port) in [80, 80, 22, 23, 25, 110, 143, 445, 3389].enumerated() {
            if let e = t.observe(ScanProbe(src: src, srcPort: 5000, dstPort: UInt16(port), flags: 0x02, timestampNs: UInt64(i) * 1_000_000), decky: d, open: [80]) {
                events.append(e)
            }
        }
        #expect(events.count == 1 && events[0].value("ports") == "22,23,25,110,143" && events[0].value("kind") == "syn")
        let later = ScanProbe(src: src, srcPort: 5000, dstPort: 1, flags: 0x29, timestampNs: 61_000_000_000)
        #expect(t.observe(later, decky: d, open: [80]) == nil, "a new window starts counting again")
    }
}
