// EngineStreamTests.swift: a real ClientHello cut into small TCP segments, delivered in order and
// shuffled inside the out-of-order window, must give the same hello (and JA4) as the whole message.
import CPacket
import Fingerprint
import TestSupport
import Testing

func clientHelloRecord(segmentSize: Int, shuffle: Bool) -> TLSHello? {
    let seg = CorpusPackets.tcpPayloads("tls-alpn-h2.pcap").first { $0.bytes.first == 0x16 && $0.bytes[5] == 1 }!
    let bytes = seg.bytes
    let engine = EngineHarness()
    let c: [UInt8] = [10, 0, 0, 1], s: [UInt8] = [10, 0, 0, 2]
    let isn: UInt32 = 0xfffffff0     // sequence numbers wrap inside the hello
    var t: UInt64 = 1_000_000_000
    func send(_ p: [UInt8]) { t += 1000; engine.feed(p, tsNs: t) }
    send(PacketBuilder.tcp(src: c, dst: s, sport: 40000, dport: 443, seq: isn, flags: 0x02))
    send(PacketBuilder.tcp(src: s, dst: c, sport: 443, dport: 40000, seq: 77, ack: isn &+ 1, flags: 0x12))
    send(PacketBuilder.tcp(src: c, dst: s, sport: 40000, dport: 443, seq: isn &+ 1, ack: 78, flags: 0x10))
    var pieces: [(UInt32, [UInt8])] = []
    var off = 0
    while off < bytes.count {
        let end = min(off + segmentSize, bytes.count)
        pieces.append((isn &+ 1 &+ UInt32(off), Array(bytes[off..<end])))
        off = end
    }
    if shuffle {   // swap neighbours pairwise, plus one duplicate (retransmission)
        var i = 0
        while i + 1 < pieces.count { pieces.swapAt(i, i + 1); i += 3 }
        if pieces.count > 2 { pieces.insert(pieces[1], at: 2) }
    }
    for (seq, p) in pieces { send(PacketBuilder.tcp(src: c, dst: s, sport: 40000, dport: 443, seq: seq, ack: 78, flags: 0x18, payload: p)) }
    var found: TLSHello? = nil
    engine.drain { r in
        if case .clientHello(let h) = PacketRecord(decoding: r).body, found == nil { found = h }
    }
    return found
}

@Test func clientHelloSplitAcrossSegmentsParses() throws {
    let whole = try #require(clientHelloRecord(segmentSize: 4096, shuffle: false))
    for size in [1, 7, 100] {
        let dripped = try #require(clientHelloRecord(segmentSize: size, shuffle: false), "segment size \(size)")
        #expect(JA4(dripped).raw == JA4(whole).raw)
    }
    let shuffled = try #require(clientHelloRecord(segmentSize: 50, shuffle: true))
    #expect(JA4(shuffled).raw == JA4(whole).raw)
    #expect(JA3(shuffled).full == JA3(whole).full)
}
