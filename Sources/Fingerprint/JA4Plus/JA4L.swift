// JA4L.swift: JA4L light-distance fingerprints. FoxIO License 1.1 (see LICENSE/NOTICE).
// Two forms: the 2-part `latency_ttl` (client and server) and the 3-part `latency_ttl_applatency`.
//   TCP: A = SYN, B = SYN+ACK, C = handshake ACK, D/E/F = alternating first payloads after it.
//   JA4L-S = (B-A)/2 _ SYN+ACK TTL [_ (E-D)/2];  JA4L-C = (C-B)/2 _ SYN TTL [_ (F-E)/2]   (µs)
//   QUIC: A client Initial, B server Initial, C last server Handshake before D, D client Handshake.
#if JA4Plus

public struct JA4L: Sendable, Equatable {
    public let client: String?, server: String?            // 2-part
    public let client3: String?, server3: String?          // 3-part

    public init(_ f: FlowSummary, isQUIC: Bool, isHTTP: Bool, ipVersion: UInt8) {
        func us(_ ns: UInt64) -> Int64 { Int64(ns / 1000) }
        if isQUIC {
            // Wireshark's field for the 3rd part is the literal "quic"; its TTL comes from IPv4 only.
            let ttlC = ipVersion == 4 ? Int(f.quicTTLClient) : 0
            let ttlS = ipVersion == 4 ? Int(f.quicTTLServer) : 0
            server = f.qA > 0 && f.qB >= f.qA ? "\((us(f.qB) - us(f.qA)) / 2)_\(f.quicTTLServer)" : nil
            client = f.qC > 0 && f.qD >= f.qC ? "\((us(f.qD) - us(f.qC)) / 2)_\(f.quicTTLClient)" : nil
            if f.qA > 0, f.qB > f.qA {
                server3 = "\(Self.subsecond(f.qB, f.qA) / 2)_\(ttlS)_quic"
            } else { server3 = nil }
            if f.qC > 0, f.qD > f.qC {
                client3 = "\(Self.subsecond(f.qD, f.qC) / 2)_\(ttlC)_quic"
            } else { client3 = nil }
            return
        }
        guard f.tSyn > 0, f.tSynAck >= f.tSyn else { client = nil; server = nil; client3 = nil; server3 = nil; return }
        server = "\((us(f.tSynAck) - us(f.tSyn)) / 2)_\(f.ttlSynAck)"
        client = f.tAck >= f.tSynAck && f.tAck > 0 ? "\((us(f.tAck) - us(f.tSynAck)) / 2)_\(f.ttlSyn)" : nil
        // 3-part (Wireshark plugin): sub-second deltas only; "tcp" instead of app latency for HTTP.
        let sA = Self.subsecond(f.tSynAck, f.tSyn) / 2
        let sC = f.tAck > 0 ? Self.subsecond(f.tAck, f.tSynAck) / 2 : -1
        let appS: String? = isHTTP ? "tcp" : (f.tE > f.tD && f.tD > 0 ? String(Self.subsecond(f.tE, f.tD) / 2) : nil)
        let appC: String? = isHTTP ? "tcp" : (f.tF > f.tE && f.tE > 0 ? String(Self.subsecond(f.tF, f.tE) / 2) : nil)
        server3 = appS.map { "\(sA)_\(f.ttlSynAck)_\($0)" }
        client3 = (sC >= 0 ? appC : nil).map { "\(sC)_\(f.ttlSyn)_\($0)" }
    }

    /// Microseconds of the sub-second part of (later - earlier), as the Wireshark plugin computes it.
    static func subsecond(_ later: UInt64, _ earlier: UInt64) -> Int64 {
        let d = Int64(later / 1000) - Int64(earlier / 1000)
        return d % 1_000_000
    }
}
#endif
