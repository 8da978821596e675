// P0fDatabaseTests.swift: OS labels from the system p0f database (Debian package p0f, installed by
// scripts/install-deps), checked against labels p0f 3.09b itself printed for corpus packets.
import Foundation
@testable import Fingerprint
import Testing

let p0fPath = "/etc/p0f/p0f.fp"

@Test(.enabled(if: FileManager.default.fileExists(atPath: p0fPath)))
func p0fLabelsMatchP0fItself() throws {
    let db = P0fDatabase(text: try String(contentsOfFile: p0fPath, encoding: .utf8))
    #expect(db.count > 100)
    // SYN+ACK from socks-https-example.pcap; p0f logged os=Linux 3.x for raw_sig
    // 4:64+0:0:1460:mss*10,7:mss,sok,ts,nop,ws:df:0
    let synAck = TCPSynFacts(window: 14600, urgentPointer: 0, seq: 9, ack: 7, flags: 0x12, ipID: 0, ttl: 64,
                             ipHeaderLength: 20, tos: 0, ipv4Flags: 2, flowLabel: 0, payloadLength: 0,
                             options: [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 1, 1, 3, 3, 7],
                             tunnelled: false)
    let sig = TCPSignature(synAck, ipVersion: 4, peerSynMSS: 1460)
    #expect(sig.raw == "4:64+0:0:1460:mss*10,7:mss,sok,ts,nop,ws:df:0")
    #expect(db.match(sig) == "Linux 3.x")
}

@Test(.enabled(if: FileManager.default.fileExists(atPath: p0fPath)))
func p0fWindowMultipleUsesDetectedRule() throws {
    // window 14480 = 10 x (MSS - 12) with timestamps: p0f prints and matches it as mss*10 (Linux 3.x)
    let db = P0fDatabase(text: try String(contentsOfFile: p0fPath, encoding: .utf8))
    let synAck = TCPSynFacts(window: 14480, urgentPointer: 0, seq: 9, ack: 7, flags: 0x12, ipID: 0, ttl: 64,
                             ipHeaderLength: 20, tos: 0, ipv4Flags: 2, flowLabel: 0, payloadLength: 0,
                             options: [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 7], tunnelled: false)
    let sig = TCPSignature(synAck, ipVersion: 4, peerSynMSS: 1460)
    #expect(sig.windowForm == "mss*10")
    #expect(db.match(sig) == "Linux 3.x")
}
