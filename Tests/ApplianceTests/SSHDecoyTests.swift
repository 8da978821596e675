// SSHDecoyTests.swift: the SSH decoy in-process: the first bytes are the persona's banner alone, its
// KEXINIT comes only after the client's version line and equals the recorded reference list for list
// (HASSH-server included), and hostile input (drip-fed, oversized, malformed) ends in an anomaly event
// and a close, never a crash. Real clients: Tests/Integration/ssh_decoy.sh.
@testable import Appliance
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
