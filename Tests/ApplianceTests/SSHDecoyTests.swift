// SSHDecoyTests.swift: the SSH decoy in-process: the first bytes are the persona's banner alone, its
// KEXINIT comes only after the client's version line and equals the recorded reference list for list
// (HASSH-server included), and hostile input (drip-fed, oversized, malformed) ends in an anomaly event
// and a close, never a crash. Real clients: Tests/Integration/ssh_decoy.sh.
@testable import Appliance
import CDecoyCrypto
import Foundation
import Fingerprint
import Testing

private func decky(_ distro: String) -> DeckySpec {
    DeckySpec(name: "ssh-\(distro)", ip: IPv4("10.9.0.2")!, mac: "d4:be:d9:00:00:01", hostname: "SRV-ALPHA-12", services: ["ssh"],
              distro: distro, archetype: nil, nmapOS: "linux", serviceConfig: [:])
}

private func SSHHarness(_ distro: String) -> Harness { Harness("ssh", decky: decky(distro)) }

extension Harness {
    var anomalies: [String] { events.filter { $0.spec.id == "ssh.protocol.anomaly" }.compactMap { $0.value("kind") } }
}

private func fixture(_ name: String) throws -> [String: Any] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/ssh/\(name).kexinit.json")
    return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

@Suite struct SSHDecoyTests {
    @Test(arguments: [("debian", "openssh-9.2p1-debian12"), ("ubuntu22", "openssh-8.9p1-ubuntu22")])
    func kexinitIsTheReferenceAndComesAfterTheClientVersion(distro: String, ref: String) throws {
        let fx = try fixture(ref)
        let h = SSHHarness(distro)
        #expect(String(decoding: h.out, as: UTF8.self) == (fx["banner"] as! String) + "\r\n", "the banner alone first")
        h.out.removeAll()
        // drip-fed client version: nothing until the line ends
        for b in Array("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6\r".utf8) { h.send([b]) }
        #expect(h.out.isEmpty)
        h.send([0x0a])
        // one plaintext packet: length, padding, KEXINIT
        var r = SSHReader(h.out)
        let plen = Int(try r.u32()), pad = Int(try r.byte())
        #expect(h.out.count == 4 + plen && (4 + plen) % 8 == 0 && pad >= 4)
        #expect(h.out.suffix(pad).allSatisfy { $0 == 0 }, "zero padding before keys, as OpenSSH")
        #expect(try r.byte() == 20)
        for _ in 0..<16 { _ = try r.byte() }
        var lists: [[String]] = []
        for _ in 0..<10 { lists.append(try r.nameList()) }
        #expect(try r.byte() == 0 && (try r.u32()) == 0)
        let k = fx["kexinit"] as! [String: [String]]
        let names = ["kex", "host_key", "enc_c2s", "enc_s2c", "mac_c2s", "mac_s2c", "comp_c2s", "comp_s2c", "lang_c2s", "lang_s2c"]
        for (i, n) in names.enumerated() { #expect(lists[i] == k[n]!, "\(ref) \(n)") }
        let hassh = HASSH(server: KexInit(lists: lists.map { $0.joined(separator: ",") }))
        #expect(hassh.hash == fx["hassh_server"] as! String)
        #expect(h.events.contains { $0.spec.id == "ssh.client.version" && $0.value("client_banner") == "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6" })
    }

    /// The service layer (auth, channels, shell, scp, sftp) fed structured garbage after keys, as a client
    /// with valid keys could send it (the transport's crypto is bypassed: payloads go straight in). A trap
    /// (bounds, overflow) would crash the test process; every session must stay bounded.
    @Test func serviceLayerSurvivesStructuredGarbage() {
        var rng = SeededRandom(seed: "ssh-service-fuzz")
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        func str(_ s: [UInt8]) -> [UInt8] { var w = SSHWriter(); w.string(s); return w.bytes }
        func u32(_ v: UInt32) -> [UInt8] { var w = SSHWriter(); w.u32(v); return w.bytes }
        let requests = ["pty-req", "shell", "exec", "subsystem", "env", "window-change", "x11-req", "signal"]
        for round in 0..<300 {
            let h = SSHHarness("debian")
            h.send(Array("SSH-2.0-fuzz\r\n".utf8))
            let d = h.session as! SSHDecoy
            d.serviceAccepted = true
            if round % 3 != 0 { d.user = "root" }
            var seq: UInt32 = 0
            func feed(_ p: [UInt8]) { d.payload(p, seq: seq); seq &+= 1; h.drain() }
            feed([SSHMsg.channelOpen] + str(Array("session".utf8)) + u32(0) + u32(UInt32(rng.next() % 70_000)) + u32(32_768))
            for _ in 0..<40 where !h.closed {
                switch rng.next() % 8 {
                case 0: feed([SSHMsg.userauthRequest] + str(bytes(Int(rng.next() % 20))) + str(Array("ssh-connection".utf8))
                             + str(Array(["password", "publickey", "none", "keyboard-interactive"][Int(rng.next() % 4)].utf8)) + bytes(Int(rng.next() % 80)))
                case 1:
                    let req = requests[Int(rng.next() % UInt64(requests.count))]
                    var body = bytes(Int(rng.next() % 64))
                    if req == "exec" { body = str(Array(["scp -t /tmp/x", "scp -f /etc/passwd", "uname -a", "wget http://x/y"][Int(rng.next() % 4)].utf8)) }
                    if req == "subsystem" { body = str(Array("sftp".utf8)) }
                    feed([SSHMsg.channelRequest] + u32(0) + str(Array(req.utf8)) + [UInt8(rng.next() % 2)] + body)
                case 2:
                    // SFTP-framed or SCP-shaped or random channel data
                    var data = bytes(Int(rng.next() % 300))
                    if rng.next() % 2 == 0 { data = u32(UInt32(data.count + 5)) + [UInt8(rng.next() % 21), 0, 0, 0, 1] + data }
                    if rng.next() % 4 == 0 { data = Array("C0644 \(rng.next() % 100_000) f\n".utf8) + data }
                    feed([SSHMsg.channelData] + u32(0) + str(data))
                case 3: feed([SSHMsg.channelWindowAdjust] + u32(0) + u32(UInt32(truncatingIfNeeded: rng.next())))
                case 4: feed([UInt8(rng.next() % 256)] + bytes(Int(rng.next() % 100)))
                case 5: feed([SSHMsg.channelEOF] + u32(UInt32(rng.next() % 2)))
                case 6: feed([SSHMsg.globalRequest] + str(Array("tcpip-forward".utf8)) + [1] + bytes(8))
                default: feed([SSHMsg.channelOpen] + str(Array(["session", "direct-tcpip", "x11"][Int(rng.next() % 3)].utf8)) + bytes(Int(rng.next() % 60)))
                }
            }
            d.end(reason: "test", h.io)
            h.drain()
            #expect(h.events.count < 2_000)
            #expect(h.events.allSatisfy { $0.fields.allSatisfy { $0.1.utf8.count <= 16_384 } })
        }
    }

    @Test func hostileBytesCloseWithAnAnomaly() {
        let hello = Array("SSH-2.0-x\r\n".utf8)
        let cases: [([UInt8], String)] = [
            (Array("GET / HTTP/1.1\r\n".utf8), "bad_identification"),
            ([UInt8](repeating: 0x41, count: 9000), "bad_identification"),
            (hello + [0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0], "bad_packet_length"),
            (hello + [0, 0, 0, 12, 200] + [UInt8](repeating: 0, count: 11), "bad_padding"),
            (hello + [0, 0, 0, 12, 4, 20] + [UInt8](repeating: 0, count: 10), "malformed_message"),      // truncated KEXINIT
        ]
        for (input, kind) in cases {
            for drip in [false, true] {
                let h = SSHHarness("debian")
                if drip { for b in input { h.send([b]) } } else { h.send(input) }
                #expect(h.closed && h.anomalies == [kind], "\(kind) drip=\(drip): \(h.anomalies)")
            }
        }
        // A message before the client's KEXINIT: sshd answers UNIMPLEMENTED (seq 0) and carries on; we log it too.
        let early = SSHHarness("debian")
        early.send(hello)
        early.out.removeAll()
        early.send([0, 0, 0, 12, 4, 50] + [UInt8](repeating: 0, count: 10))
        #expect(!early.closed && early.anomalies == ["unexpected_message"])
        #expect(early.out == [0, 0, 0, 12, 6, 3, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 6), "UNIMPLEMENTED for seq 0, zero padding")
        var rng = SeededRandom(seed: "ssh-hostile")
        for _ in 0..<200 {
            let h = SSHHarness("debian")
            let n = Int(rng.next() % 4000) + 1
            h.send(hello + (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            #expect(h.anomalies.count <= 1)
        }
    }
}

@Suite struct SSHHostKeyTests {
    @Test func keysAreMadeOnceAndAnUnreadableKeyIsReportedNotReplaced() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ssh-keys-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var spec = decky("debian")
        spec.name = "ssh-hostkeys-test"      // its own shared state: other suites run in parallel on "ssh-debian"
        let prepareWith = try #require(SSHDecoy.definition.prepare)
        let states = DeckyStates()
        let prepare = { (d: DeckySpec, dir: String?) in prepareWith(d, dir, states) }
        // first use: all three keys made, mode 0600, nothing to report
        #expect(prepare(spec, dir) == nil)
        let keyDir = dir + "/.ssh/\(spec.name)"
        for f in ["ssh_host_rsa_key", "ssh_host_ecdsa_key", "ssh_host_ed25519_key"] {
            let a = try FileManager.default.attributesOfItem(atPath: keyDir + "/" + f)
            #expect((a[.posixPermissions] as? Int) == 0o600, "\(f)")
        }
        let before = SSHHostKeys.shared(decky: spec.name, artifactsDir: dir, states: states)
        #expect(["ssh-ed25519", "rsa-sha2-512", "ecdsa-sha2-nistp256"].allSatisfy(before.has))
        // a damaged key on disk: reported (path and reason), that algorithm not offered, the file left as it was
        states.drop(decky: spec.name)
        let damaged = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
        try damaged.write(toFile: keyDir + "/ssh_host_ed25519_key", atomically: true, encoding: .utf8)
        let problem = try #require(prepare(spec, dir))
        #expect(problem.contains("cannot read host key \(keyDir)/ssh_host_ed25519_key"), "\(problem)")
        let after = SSHHostKeys.shared(decky: spec.name, artifactsDir: dir, states: states)
        #expect(!after.has("ssh-ed25519") && after.has("rsa-sha2-256") && after.has("ecdsa-sha2-nistp256"))
        #expect(try String(contentsOfFile: keyDir + "/ssh_host_ed25519_key", encoding: .utf8) == damaged)
        // an RSA key file holding an Ed25519 key: refused by type
        states.drop(decky: spec.name)
        try FileManager.default.removeItem(atPath: keyDir + "/ssh_host_ed25519_key")
        #expect(prepare(spec, dir) == nil, "a missing key is made again")
        try FileManager.default.removeItem(atPath: keyDir + "/ssh_host_rsa_key")
        try FileManager.default.copyItem(atPath: keyDir + "/ssh_host_ed25519_key", toPath: keyDir + "/ssh_host_rsa_key")
        states.drop(decky: spec.name)
        #expect(prepare(spec, dir)?.contains("is not a ssh-rsa key") == true)
        states.drop(decky: spec.name)
    }
}

@Suite struct SSHLastLogTests {
    @Test func aPtyLoginShowsThePreviousOneAndTheBookSurvivesARestart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ssh-lastlog-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/lastlog"
        let book = SSHLastLog(path: path)
        #expect(book.record(user: "root", host: "10.0.0.5", time: 1_765_000_000) == nil, "the first login shows nothing")
        #expect(book.record(user: "admin", host: "10.0.0.6", time: 1_765_000_100) == nil)
        let prev = try #require(book.record(user: "root", host: "10.0.0.7", time: 1_765_000_200))
        #expect(prev == SSHLastLog.Entry(time: 1_765_000_000, host: "10.0.0.5"))
        let line = SSHLastLog.message(prev)
        let shape = #/^Last login: (Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 123][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] 20[0-9]{2} from 10\.0\.0\.5\r\r\n$/#
        #expect(line.wholeMatch(of: shape) != nil, "\(line.debugDescription)")
        // a restart reads the book back; hostile names cannot break its lines; mode 0600
        #expect(book.record(user: "ev\til\nname", host: "10.0.0.8", time: 1_765_000_300) == nil)
        let again = SSHLastLog(path: path)
        #expect(again.entries["root"] == SSHLastLog.Entry(time: 1_765_000_200, host: "10.0.0.7"))
        #expect(again.entries["ev?il?name"]?.host == "10.0.0.8" && again.entries.count == 3)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
        // bounded: the oldest user goes first
        for i in 0..<SSHLastLog.maxUsers { _ = again.record(user: "u\(i)", host: "10.0.1.1", time: 1_765_001_000 + i) }
        #expect(again.entries.count == SSHLastLog.maxUsers && again.entries["admin"] == nil && again.entries["u0"] != nil)
    }
}

@Suite struct SSHModuliTests {
    @Test func groupsAreChosenAsSshdChoosesThem() throws {
        // a synthetic moduli file: two 2048-bit primes (RFC 3526's, generator 2 and 5), one 4096, junk lines
        var p2048 = [UInt8](repeating: 0, count: 256), p4096 = [UInt8](repeating: 0, count: 512)
        _ = dc_ssh_dh_prime(2048, &p2048, 256); _ = dc_ssh_dh_prime(4096, &p4096, 512)
        let hex = { (b: [UInt8]) in b.map { String($0, radix: 16, uppercase: true).count == 1 ? "0" + String($0, radix: 16, uppercase: true) : String($0, radix: 16, uppercase: true) }.joined() }
        let text = """
        # comment
        20220714110736 2 6 100 2047 2 \(hex(p2048))
        20220714110741 2 6 100 2047 5 \(hex(p2048))
        20220714110741 2 6 100 4095 2 \(hex(p4096))
        20220714110741 1 6 100 2047 2 \(hex(p2048))
        garbage
        20220714110741 2 6 100 2047 2 XYZ
        20220714110741 2 6 100 3071 2 \(hex(p2048))
        """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moduli-\(getpid())").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let m = SSHModuli.load(path: path)
        #expect(m.source == path && m.groups.count == 3, "type-1, bad-hex and size-mismatch lines are skipped")
        #expect(m.choose(min: 2048, n: 8192, max: 8192)?.bits == 4096, "none >= n: the largest within range")
        #expect(m.choose(min: 2048, n: 3000, max: 8192)?.bits == 4096, "the smallest above n")
        #expect(m.choose(min: 1024, n: 2048, max: 3000)?.bits == 2048)
        #expect(m.choose(min: 6000, n: 7000, max: 8192) == nil)
        var gens = Set<UInt32>()
        for _ in 0..<64 { gens.insert(m.choose(min: 1024, n: 2048, max: 2048)!.generator) }
        #expect(gens == [2, 5], "a random one among the best size")
        #expect(SSHModuli.load(path: "/nonexistent").source == "RFC 3526")
    }
}
