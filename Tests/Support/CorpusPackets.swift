// CorpusPackets.swift: test helpers: real payload bytes out of corpus captures, and a tiny
// Ethernet/IPv4/TCP packet builder for feeding the engine segment by segment.
import CPacket
import Foundation

public struct TCPPayload {
    public var sport: UInt16, dport: UInt16, seq: UInt32, flags: UInt16
    public var bytes: [UInt8]
}

public enum CorpusPackets {
    /// All TCP segments with payload in a corpus capture, in file order.
    public static func tcpPayloads(_ name: String) -> [TCPPayload] {
        let path = Corpus.pcapDir.appendingPathComponent(name).path
        var err = CP_CAP_OK
        var msg = [CChar](repeating: 0, count: 256)
        guard let cap = cp_capture_open_file(path, &err, &msg, msg.count) else { return [] }
        defer { cp_capture_close(cap) }
        var out: [TCPPayload] = []
        var h = cp_pkthdr()
        var data: UnsafePointer<UInt8>? = nil
        while cp_capture_next(cap, &h, &data) == 1 {
            var p = cp_pkt()
            guard cp_decode(data, h.caplen, h.linktype, &p) == 1, p.has_l4 == 1, p.proto == 6, p.payload_len > 0,
                  p.is_icmp == 0 else { continue }
            out.append(TCPPayload(sport: p.sport, dport: p.dport, seq: p.seq, flags: p.tcp_flags,
                                  bytes: Array(UnsafeBufferPointer(start: p.payload, count: Int(p.payload_len)))))
        }
        return out
    }
}

public enum PacketBuilder {
    /// Ethernet + IPv4 (no options) + TCP (no options) around `payload`. Checksums are not filled in:
    /// the engine does not verify them (a sensor must see what the wire carried).
    public static func tcp(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16, seq: UInt32, ack: UInt32 = 0,
                           flags: UInt8, window: UInt16 = 64240, ttl: UInt8 = 64, payload: [UInt8] = []) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 12)
        b += [0x08, 0x00]
        let total = 20 + 20 + payload.count
        b += [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 1, 0x40, 0, ttl, 6, 0, 0]
        b += src + dst
        b += [UInt8(sport >> 8), UInt8(sport & 0xff), UInt8(dport >> 8), UInt8(dport & 0xff)]
        b += [UInt8(seq >> 24), UInt8(seq >> 16 & 0xff), UInt8(seq >> 8 & 0xff), UInt8(seq & 0xff)]
        b += [UInt8(ack >> 24), UInt8(ack >> 16 & 0xff), UInt8(ack >> 8 & 0xff), UInt8(ack & 0xff)]
        b += [0x50, flags, UInt8(window >> 8), UInt8(window & 0xff), 0, 0, 0, 0]
        return b + payload
    }
}

/// Runs the engine synchronously over packets and returns every record's kind and decoded view.
public final class EngineHarness {
    public let engine: OpaquePointer
    public init(streamBytes: UInt32 = 65536) {
        var cfg = cp_engine_config()
        cp_engine_config_defaults(&cfg)
        cfg.stream_bytes = streamBytes
        cfg.ring_slots = 1024
        engine = cp_engine_create(&cfg)
    }
    deinit { cp_engine_destroy(engine) }

    public func feed(_ pkt: [UInt8], tsNs: UInt64) {
        var h = cp_pkthdr(ts_ns: tsNs, caplen: UInt32(pkt.count), wirelen: UInt32(pkt.count), linktype: 1)
        pkt.withUnsafeBufferPointer { cp_engine_feed(engine, &h, $0.baseAddress) }
    }

    /// Flushes flows and drains the ring through `body`, one record pointer at a time.
    public func drain(flush: Bool = true, _ body: (UnsafePointer<cp_record>) -> Void) {
        if flush { cp_engine_flush(engine) }
        let ring = cp_engine_ring(engine)
        while let r = cp_ring_peek(ring) {
            body(r)
            cp_ring_release(ring)
        }
    }
}
