// PacketRecord.swift: Swift view of one cp_record, decoded once at the boundary. Everything the
// algorithms need is copied out of the ring slot here; nothing keeps a pointer into the slot.
import CPacket

public struct TCPSynFacts: Sendable, Hashable {
    public var window: UInt16, urgentPointer: UInt16
    public var seq: UInt32, ack: UInt32
    public var flags: UInt16
    public var ipID: UInt16
    public var ttl: UInt8, ipHeaderLength: UInt8, tos: UInt8, ipv4Flags: UInt8
    public var flowLabel: UInt32
    public var payloadLength: UInt16
    public var options: [UInt8]
    public var tunnelled: Bool
}

public struct TLSHello: Sendable, Hashable {
    public var recordVersion: UInt16
    public var legacyVersion: UInt16
    public var cipher: UInt16
    public var ciphers: [UInt16]
    public var extensions: [UInt16]
    public var groups: [UInt16]
    public var ecPointFormats: [UInt8]
    public var signatureAlgorithms: [UInt16]
    public var supportedVersions: [UInt16]
    public var alpn: [UInt8]?          // first offered (client) or selected (server) protocol
    public var sni: String?
    public var hasSNI: Bool
    public var isQUIC: Bool, isDTLS: Bool, isHelloRetryRequest: Bool
}

public struct X509OIDs: Sendable, Hashable {
    public var index: Int
    public var issuer: [[UInt8]], subject: [[UInt8]], extensions: [[UInt8]]
}

public struct KexInit: Sendable, Hashable {
    /// kex, hostkey, enc c2s, enc s2c, mac c2s, mac s2c, comp c2s, comp s2c, lang c2s, lang s2c
    public var lists: [String]
    public init(lists: [String]) { self.lists = lists }
}

public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String, target: String, version: String
    public var headers: [(name: String, value: String)]
    public static func == (a: Self, b: Self) -> Bool {
        a.method == b.method && a.target == b.target && a.version == b.version
            && a.headers.map { $0.name } == b.headers.map { $0.name } && a.headers.map { $0.value } == b.headers.map { $0.value }
    }
}

public struct TracePacket: Sendable, Equatable {
    public var payloadLength: UInt16, dir: UInt8, flags: UInt8
    /// The segment is an SSH packet as the references' dissector delimits them (CP_TRACE_SSH).
    public var isSSH: Bool
}

public struct FlowSummary: Sendable, Equatable {
    public var firstNs: UInt64, lastNs: UInt64
    public var packets: (UInt64, UInt64), bytes: (UInt64, UInt64)
    public var tSyn: UInt64, tSynAck: UInt64, tAck: UInt64, tD: UInt64, tE: UInt64, tF: UInt64
    public var synAckRetransmits: [UInt64]
    public var tRst: UInt64
    public var qA: UInt64, qB: UInt64, qC: UInt64, qD: UInt64
    public var clientDir: UInt8
    public var synSeen: Bool, synAckSeen: Bool
    public var ttlSyn: UInt8, ttlSynAck: UInt8, ttlClient: UInt8, ttlServer: UInt8
    public var quicTTLClient: UInt8, quicTTLServer: UInt8
    public var app: UInt8
    public var endedBy: UInt8
    public var iatMinNs: UInt64 = 0, iatMaxNs: UInt64 = 0
    public var retransmits: UInt32 = 0
    public static func == (a: Self, b: Self) -> Bool {
        a.firstNs == b.firstNs && a.lastNs == b.lastNs && a.tSyn == b.tSyn && a.tSynAck == b.tSynAck && a.tAck == b.tAck
    }
}

/// A hello or KEXINIT kept as its raw record payload: the payload is the cache key (equal payloads give
/// equal fingerprints), and the full decode only runs when the key is new.
public struct RawMessage: Sendable, Hashable {
    public let kind: UInt16
    public let flags: UInt8
    /// Payload bytes, with a ClientHello's server name cut off (it is always last) and its span zeroed.
    public let key: [UInt8]
    public let serverName: String?

    init(kind: UInt16, flags: UInt8, payload: UnsafeRawBufferPointer) {
        self.kind = kind
        self.flags = flags
        if kind == UInt16(CP_REC_TLS_CLIENT_HELLO.rawValue), payload.count >= MemoryLayout<cp_tls_hello_rec>.size {
            let h = payload.loadUnaligned(as: cp_tls_hello_rec.self)
            let off = Int(h.sni.off), len = Int(h.sni.len)
            if len > 0, off <= payload.count, len <= payload.count - off {
                serverName = String(decoding: UnsafeRawBufferPointer(rebasing: payload[off..<(off + len)]), as: UTF8.self)
                var k = Array(payload[0..<off])
                let at = MemoryLayout<cp_tls_hello_rec>.offset(of: \cp_tls_hello_rec.sni)!
                for i in 0..<MemoryLayout<cp_span>.size { k[at + i] = 0 }
                key = k
                return
            }
        }
        serverName = nil
        key = Array(payload)
    }

    public var hello: TLSHello? {
        let body = key.withUnsafeBytes { PacketRecord.decodeBody(kind: kind, flags: flags, PayloadReader(base: $0)) }
        switch body {
        case .clientHello(var h):
            h.sni = serverName
            return h
        case .serverHello(let h):
            return h
        default:
            return nil
        }
    }

    // Identity for caching: the payload without the server name.
    public static func == (a: RawMessage, b: RawMessage) -> Bool { a.kind == b.kind && a.flags == b.flags && a.key == b.key }
    public func hash(into h: inout Hasher) {
        h.combine(kind)
        h.combine(flags)
        key.withUnsafeBytes { h.combine(bytes: $0) }
    }

    public var kexInit: KexInit? {
        key.withUnsafeBytes { raw in
            if case .sshKexInit(let k) = PacketRecord.decodeBody(kind: kind, flags: flags, PayloadReader(base: raw)) { return k }
            return nil
        }
    }
}

public enum RecordBody: Sendable {
    case tcpSyn(TCPSynFacts)
    case clientHello(TLSHello)
    case serverHello(TLSHello)
    case rawHello(RawMessage)          // a ClientHello or ServerHello, decoded on demand
    case rawKexInit(RawMessage)
    case certificate(X509OIDs)
    case sshBanner(String)
    case sshKexInit(KexInit)
    case httpRequest(HTTPRequestHead)
    case packetTrace([TracePacket])
    case flowEnd(FlowSummary)
    case inputEnd(status: Int32, offset: UInt64, message: String)
    case unknown(kind: UInt16)
}

public struct PacketRecord: Sendable {
    public var flowID: UInt32
    public var timestampNs: UInt64
    public var src: IPAddress, dst: IPAddress
    public var sport: UInt16, dport: UInt16
    public var ipProto: UInt8
    public var dir: UInt8
    public var flags: UInt8
    public var anomalies: UInt32
    public var body: RecordBody
}

/// Reads spans out of a record payload; every access is bounds-checked against the payload length.
struct PayloadReader {
    let base: UnsafeRawBufferPointer

    func bytes(_ s: cp_span) -> [UInt8] {
        let off = Int(s.off), len = Int(s.len)
        guard len > 0, off <= base.count, len <= base.count - off else { return [] }
        return Array(UnsafeRawBufferPointer(rebasing: base[off..<(off + len)]))
    }
    func u16s(_ s: cp_span) -> [UInt16] {
        let off = Int(s.off), len = Int(s.len) & ~1
        guard len > 0, off <= base.count, len <= base.count - off else { return [] }
        var out = [UInt16]()
        out.reserveCapacity(len / 2)
        var i = off
        while i < off + len {
            out.append(base.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            i += 2
        }
        return out
    }
    func string(_ s: cp_span) -> String { String(decoding: bytes(s), as: UTF8.self) }
    /// OIDs stored as [len][content]...
    func oids(_ s: cp_span) -> [[UInt8]] {
        let b = bytes(s)
        var out = [[UInt8]]()
        var i = 0
        while i < b.count {
            let l = Int(b[i])
            i += 1
            guard l <= b.count - i else { break }
            out.append(Array(b[i..<(i + l)]))
            i += l
        }
        return out
    }
    func load<T>(_ type: T.Type) -> T? {
        guard base.count >= MemoryLayout<T>.size else { return nil }
        return base.loadUnaligned(as: T.self)
    }
}

extension PacketRecord {
    /// Decode the record at `r` (header + payload in one slot). The caller owns the slot until it returns.
    public init(decoding r: UnsafePointer<cp_record>) {
        self.init(header: r) { h, payload in Self.decodeBody(kind: h.kind, flags: h.flags, PayloadReader(base: payload)) }
    }

    /// Like init(decoding:) but keeps hellos and KEXINITs raw (see RawMessage): the sniff hot path.
    public init(decodingLazily r: UnsafePointer<cp_record>) {
        self.init(header: r) { h, payload in
            switch Int(h.kind) {
            case Int(CP_REC_TLS_CLIENT_HELLO.rawValue), Int(CP_REC_TLS_SERVER_HELLO.rawValue):
                return .rawHello(RawMessage(kind: h.kind, flags: h.flags, payload: payload))
            case Int(CP_REC_SSH_KEXINIT.rawValue):
                return .rawKexInit(RawMessage(kind: h.kind, flags: h.flags, payload: payload))
            default:
                return Self.decodeBody(kind: h.kind, flags: h.flags, PayloadReader(base: payload))
            }
        }
    }

    private init(header r: UnsafePointer<cp_record>, body: (cp_record, UnsafeRawBufferPointer) -> RecordBody) {
        let h = r.pointee
        let payload = UnsafeRawBufferPointer(start: UnsafeRawPointer(r.advanced(by: 1)),
                                             count: min(Int(h.payload_len), Int(CP_PAYLOAD_MAX)))
        flowID = h.flow_id
        timestampNs = h.ts_ns
        src = IPAddress(version: h.ip_version, tuple: h.src)
        dst = IPAddress(version: h.ip_version, tuple: h.dst)
        sport = h.sport
        dport = h.dport
        ipProto = h.proto
        dir = h.dir
        flags = h.flags
        anomalies = h.anomalies
        self.body = body(h, payload)
    }

    static func decodeBody(kind: UInt16, flags: UInt8, _ rd: PayloadReader) -> RecordBody {
        switch Int(kind) {
        case Int(CP_REC_TCP_SYN.rawValue):
            guard let s = rd.load(cp_tcp_syn_rec.self) else { return .unknown(kind: kind) }
            var opts = withUnsafeBytes(of: s.opts) { Array($0) }
            opts = Array(opts.prefix(Int(min(s.opt_len, 40))))
            return .tcpSyn(TCPSynFacts(window: s.window, urgentPointer: s.urg_ptr, seq: s.seq, ack: s.ack,
                                       flags: s.tcp_flags, ipID: s.ip_id, ttl: s.ttl, ipHeaderLength: s.ip_hdr_len,
                                       tos: s.tos, ipv4Flags: s.ipv4_flags, flowLabel: s.flow_label,
                                       payloadLength: s.payload_len, options: opts, tunnelled: s.tunnelled != 0))
        case Int(CP_REC_TLS_CLIENT_HELLO.rawValue), Int(CP_REC_TLS_SERVER_HELLO.rawValue):
            guard let t = rd.load(cp_tls_hello_rec.self) else { return .unknown(kind: kind) }
            let alpn = rd.bytes(t.alpn)
            let hello = TLSHello(
                recordVersion: t.record_version, legacyVersion: t.legacy_version, cipher: t.cipher,
                ciphers: rd.u16s(t.ciphers), extensions: rd.u16s(t.extensions), groups: rd.u16s(t.groups),
                ecPointFormats: rd.bytes(t.ec_formats), signatureAlgorithms: rd.u16s(t.sig_algs),
                supportedVersions: rd.u16s(t.versions), alpn: alpn.isEmpty ? nil : alpn,
                sni: t.sni.len > 0 ? rd.string(t.sni) : nil, hasSNI: t.has_sni != 0,
                isQUIC: flags & UInt8(CP_RF_QUIC) != 0, isDTLS: flags & UInt8(CP_RF_DTLS) != 0,
                isHelloRetryRequest: flags & UInt8(CP_RF_HRR) != 0)
            return kind == UInt16(CP_REC_TLS_CLIENT_HELLO.rawValue) ? .clientHello(hello) : .serverHello(hello)
        case Int(CP_REC_TLS_CERT.rawValue):
            guard let x = rd.load(cp_x509_rec.self) else { return .unknown(kind: kind) }
            return .certificate(X509OIDs(index: Int(x.index), issuer: rd.oids(x.issuer), subject: rd.oids(x.subject),
                                         extensions: rd.oids(x.ext)))
        case Int(CP_REC_SSH_BANNER.rawValue):
            guard let t = rd.load(cp_text_rec.self) else { return .unknown(kind: kind) }
            return .sshBanner(rd.string(t.text))
        case Int(CP_REC_SSH_KEXINIT.rawValue):
            guard let k = rd.load(cp_kexinit_rec.self) else { return .unknown(kind: kind) }
            let lists = withUnsafeBytes(of: k.lists) { raw in
                (0..<10).map { i in rd.string(raw.loadUnaligned(fromByteOffset: i * MemoryLayout<cp_span>.stride, as: cp_span.self)) }
            }
            return .sshKexInit(KexInit(lists: lists))
        case Int(CP_REC_HTTP_REQUEST.rawValue):
            guard let h = rd.load(cp_http_rec.self) else { return .unknown(kind: kind) }
            let n = Int(min(h.n_headers, UInt16(CP_HTTP_HDR_MAX)))
            let stride = MemoryLayout<cp_span>.stride
            let names = withUnsafeBytes(of: h.names) { raw in (0..<n).map { rd.string(raw.loadUnaligned(fromByteOffset: $0 * stride, as: cp_span.self)) } }
            let values = withUnsafeBytes(of: h.values) { raw in (0..<n).map { rd.string(raw.loadUnaligned(fromByteOffset: $0 * stride, as: cp_span.self)) } }
            return .httpRequest(HTTPRequestHead(method: rd.string(h.method), target: rd.string(h.target),
                                                version: rd.string(h.version),
                                                headers: zip(names, values).map { (name: $0, value: $1) }))
        case Int(CP_REC_PKT_TRACE.rawValue):
            guard rd.base.count >= 8 else { return .unknown(kind: kind) }
            let count = Int(rd.base.loadUnaligned(as: UInt32.self))
            let maxCount = (rd.base.count - 8) / 4
            var out = [TracePacket]()
            out.reserveCapacity(min(count, maxCount))
            for i in 0..<min(count, maxCount) {
                let o = 8 + i * 4
                out.append(TracePacket(payloadLength: rd.base.loadUnaligned(fromByteOffset: o, as: UInt16.self),
                                       dir: rd.base[o + 2] & 1, flags: rd.base[o + 3],
                                       isSSH: rd.base[o + 2] & UInt8(CP_TRACE_SSH) != 0))
            }
            return .packetTrace(out)
        case Int(CP_REC_FLOW_END.rawValue):
            guard let f = rd.load(cp_flow_rec.self) else { return .unknown(kind: kind) }
            let retx = withUnsafeBytes(of: f.t_synack_retx) { raw in
                (0..<Int(min(f.n_synack_retx, UInt8(CP_RETX_MAX)))).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
            }
            return .flowEnd(FlowSummary(
                firstNs: f.first_ns, lastNs: f.last_ns, packets: (f.packets.0, f.packets.1), bytes: (f.bytes.0, f.bytes.1),
                tSyn: f.t_syn, tSynAck: f.t_synack, tAck: f.t_ack, tD: f.t_d, tE: f.t_e, tF: f.t_f,
                synAckRetransmits: retx, tRst: f.t_rst, qA: f.q_a, qB: f.q_b, qC: f.q_c, qD: f.q_d,
                clientDir: f.client_dir, synSeen: f.syn_seen != 0, synAckSeen: f.synack_seen != 0,
                ttlSyn: f.ttl_syn, ttlSynAck: f.ttl_synack, ttlClient: f.ttl_c, ttlServer: f.ttl_s,
                quicTTLClient: f.quic_ttl_c, quicTTLServer: f.quic_ttl_s, app: f.app, endedBy: f.ended_by,
                iatMinNs: f.iat_min_ns, iatMaxNs: f.iat_max_ns, retransmits: f.retransmits))
        case Int(CP_REC_INPUT_END.rawValue):
            guard let e = rd.load(cp_end_rec.self) else { return .unknown(kind: kind) }
            let msg = withUnsafeBytes(of: e.message) { raw -> String in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            return .inputEnd(status: e.status, offset: e.offset, message: msg)
        default:
            return .unknown(kind: kind)
        }
    }
}

extension TLSHello {
    /// Parses one ClientHello handshake message (4-byte header included) with the packet core's parser:
    /// for a decoy that terminates TLS itself and wants the client's JA3/JA4. Nil when it is not one.
    public init?(clientHelloMessage msg: [UInt8]) {
        let recSize = MemoryLayout<cp_tls_hello_rec>.size
        var buf = [UInt8](repeating: 0, count: 16_384)
        let parsed: TLSHello? = buf.withUnsafeMutableBytes { raw -> TLSHello? in
            var o = cp_out(buf: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), cap: raw.count, len: recSize, full: 0)
            var h = cp_tls_hello_rec()
            var anomalies: UInt64 = 0
            let st = msg.withUnsafeBufferPointer { cp_tls_client_hello($0.baseAddress, $0.count, 0, &h, &o, &anomalies) }
            guard st == CP_OK, o.full == 0 else { return nil }
            withUnsafeBytes(of: &h) { raw.copyMemory(from: $0) }
            if case .clientHello(let hello) = PacketRecord.decodeBody(kind: UInt16(CP_REC_TLS_CLIENT_HELLO.rawValue), flags: 0,
                                                                      PayloadReader(base: UnsafeRawBufferPointer(rebasing: raw[0..<o.len]))) {
                return hello
            }
            return nil
        }
        guard let parsed else { return nil }
        self = parsed
    }
}
