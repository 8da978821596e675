// FlowAssembler.swift: folds the records of each flow into one FlowReport when the flow ends.
// Pure: records in, reports out. Which side is the client: the SYN sender when the handshake was seen,
// else the side not on port 22 for SSH, else the first sender (the references' rule).
import CPacket

public struct FlowAssembler {
    public struct Options: Sendable {
        public var p0f: P0fDatabase?
        public var sshWindow: Int
        public init(p0f: P0fDatabase? = nil, sshWindow: Int = 200) { self.p0f = p0f; self.sshWindow = sshWindow }
    }

    /// What one flow has shown so far (a reference, so records fold in place). Fixed pairs instead of
    /// dictionaries: most flows carry little.
    final class State {
        var syn: TCPSynFacts?, synAck: TCPSynFacts?
        var clientHellos: [HelloRef] = [], serverHellos: [HelloRef] = []
        var certs: [X509OIDs] = []
        var banners: (String?, String?) = (nil, nil)      // by record direction
        var kex: (KexRef?, KexRef?) = (nil, nil)
        var http: [HTTPRequestHead] = []
        #if JA4Plus
        var ssh: JA4SSH? = nil                            // created by the first packet trace
        #endif
        var traced = false
    }

    let options: Options
    var flows: [UInt32: State] = [:]
    /// Memo of per-message fingerprints: attackers and clients repeat the same hellos endlessly,
    /// so recomputing strings and digests per flow is the dominant cost without these.
    var clientCache = BoundedCache<HelloRef, FlowReport>(limit: 4096)
    var serverCache = BoundedCache<HelloRef, FlowReport>(limit: 4096)
    var synCache = BoundedCache<P0fKey, SynPrints>(limit: 4096)
    var sshCache = BoundedCache<KexPair, FlowReport>(limit: 1024)
    #if JA4Plus
    var certCache = BoundedCache<X509OIDs, JA4X>(limit: 4096)
    #endif
    public private(set) var reports = 0

    public init(options: Options = Options()) {
        self.options = options
        flows.reserveCapacity(65536)
    }

    public var openFlows: Int { flows.count }

    /// Feed one record; returns a report when the record ends its flow.
    public mutating func add(_ r: PacketRecord, pcap: String) -> FlowReport? {
        if case .inputEnd = r.body { return nil }
        if case .unknown = r.body { return nil }
        if case .flowEnd(let sum) = r.body {
            let st = flows.removeValue(forKey: r.flowID) ?? State()
            reports += 1
            return report(st, r, sum, pcap: pcap)
        }
        let st: State
        if let s = flows[r.flowID] { st = s } else { st = State(); flows[r.flowID] = st }
        Self.fold(st, r, window: options.sshWindow)
        return nil
    }

    static func fold(_ st: State, _ r: PacketRecord, window: Int) {
        switch r.body {
        case .tcpSyn(let s):
            if s.flags & 0x12 == 0x12 { if st.synAck == nil { st.synAck = s } } else if st.syn == nil { st.syn = s }
        case .clientHello(let h): st.clientHellos.append(.decoded(h))
        case .serverHello(let h): st.serverHellos.append(.decoded(h))
        case .rawHello(let m):
            if m.kind == UInt16(CP_REC_TLS_CLIENT_HELLO.rawValue) { st.clientHellos.append(.raw(m)) } else { st.serverHellos.append(.raw(m)) }
        case .rawKexInit(let m):
            if r.dir == 0 { if st.kex.0 == nil { st.kex.0 = .raw(m) } } else if st.kex.1 == nil { st.kex.1 = .raw(m) }
        case .certificate(let c): st.certs.append(c)
        case .sshBanner(let b):
            if r.dir == 0 { if st.banners.0 == nil { st.banners.0 = b } } else if st.banners.1 == nil { st.banners.1 = b }
        case .sshKexInit(let k):
            if r.dir == 0 { if st.kex.0 == nil { st.kex.0 = .decoded(k) } } else if st.kex.1 == nil { st.kex.1 = .decoded(k) }
        case .httpRequest(let h): st.http.append(h)
        case .packetTrace(let pkts):
            st.traced = true
            #if JA4Plus
            if st.ssh == nil { st.ssh = JA4SSH(windowSize: window) }
            for p in pkts { st.ssh!.add(payloadLength: Int(p.payloadLength), isSSH: p.isSSH, flags: p.flags, fromClient: p.dir == 0) }
            #endif
        default: break
        }
    }

    mutating func report(_ st: State, _ r: PacketRecord, _ sum: FlowSummary, pcap: String) -> FlowReport {
        var rep = FlowReport()
        rep.set("pcap", pcap)
        rep.set("proto", r.ipProto == 6 ? "tcp" : "udp")
        rep.setAddress("src", r.src)
        rep.setAddress("dst", r.dst)
        rep.set("sport", Int(r.sport))
        rep.set("dport", Int(r.dport))
        let ipv = r.src.version

        if let ch = st.clientHellos.first {
            rep.set("tls_server_name", ch.serverName)
            rep.append(clientCache.get(ch.cacheKey) { k in k.hello.map(Self.clientFields) ?? FlowReport() })
            if st.clientHellos.count > 1 {
                let all = st.clientHellos.compactMap(\.hello).map(JA3.init)
                rep.set("ja3_all", all.map(\.hash))
                rep.set("ja3_full_all", all.map(\.full))
            }
        }
        if let sh = st.serverHellos.first {
            rep.append(serverCache.get(sh.cacheKey) { k in k.hello.map(Self.serverFields) ?? FlowReport() })
            if st.serverHellos.count > 1 {
                let all = st.serverHellos.compactMap(\.hello).map(JA3S.init)
                rep.set("ja3s_all", all.map(\.hash))
                rep.set("ja3s_full_all", all.map(\.full))
            }
        }
        #if JA4Plus
        if !st.certs.isEmpty {
            let x = st.certs.sorted { $0.index < $1.index }.map { c in
                certCache.get(X509OIDs(index: 0, issuer: c.issuer, subject: c.subject, extensions: c.extensions)) { JA4X($0) }
            }
            rep.set("ja4x", x.map(\.hash))
            rep.set("ja4x_r", x.map(\.raw))
        }
        if !st.http.isEmpty {
            let h = st.http.map { JA4H(method: $0.method, version: $0.version, headers: $0.headers) }
            rep.set("ja4h", h.map(\.hash))
            rep.set("ja4h_r", h.map(\.raw))
            rep.set("ja4h_ro", h.map(\.rawOriginal))
        }
        let isQUIC = st.clientHellos.first?.isQUIC ?? false
        let l = JA4L(sum, isQUIC: isQUIC, isHTTP: !st.http.isEmpty, ipVersion: ipv)
        rep.set("ja4l_c", l.client)
        rep.set("ja4l_s", l.server)
        rep.set("ja4l", l.client3)
        rep.set("ja4ls", l.server3)
        #endif

        var synMSS: Int? = nil
        if let syn = st.syn {
            let p = synCache.get(P0fKey(syn, ipVersion: ipv, peerMSS: nil)) { Self.synFields($0, p0f: options.p0f) }
            synMSS = p.mss
            rep.append(p.fields)
        }
        if let sa = st.synAck {
            rep.append(synCache.get(P0fKey(sa, ipVersion: ipv, peerMSS: synMSS)) { Self.synFields($0, p0f: options.p0f) }.fields)
        }

        if st.banners.0 != nil || st.banners.1 != nil || st.kex.0 != nil || st.kex.1 != nil {
            let clientDir: UInt8 = sum.synSeen || sum.synAckSeen ? sum.clientDir
                : (r.sport == 22 && r.dport != 22 ? 1 : 0)
            let banners = clientDir == 0 ? st.banners : (st.banners.1, st.banners.0)
            let kex = clientDir == 0 ? st.kex : (st.kex.1, st.kex.0)
            rep.set("ssh_protocol_client", banners.0)
            rep.set("ssh_protocol_server", banners.1)
            let pair = KexPair(client: kex.0, server: kex.1)
            rep.append(sshCache.get(pair) { p in Self.sshFields(client: p.client?.kexInit, server: p.server?.kexInit) })
        }
        #if JA4Plus
        if st.traced, st.ssh != nil { rep.set("ja4ssh", st.ssh!.finish()) }
        #endif
        if r.anomalies != 0 { rep.set("anomalies", Anomaly.names(r.anomalies)) }
        return rep
    }

    static func clientFields(_ ch: TLSHello) -> FlowReport {
        var f = FlowReport()
        let ja3 = JA3(ch), ja4 = JA4(ch)
        f.set("ja3", ja3.hash)
        f.set("ja3_full", ja3.full)
        f.set("ja4", ja4.hash)
        f.set("ja4_r", ja4.raw)
        f.set("ja4_o", ja4.original)
        f.set("ja4_ro", ja4.rawOriginal)
        return f
    }

    static func serverFields(_ sh: TLSHello) -> FlowReport {
        var f = FlowReport()
        let ja3s = JA3S(sh)
        f.set("ja3s", ja3s.hash)
        f.set("ja3s_full", ja3s.full)
        #if JA4Plus
        let ja4s = JA4S(sh)
        f.set("ja4s", ja4s.hash)
        f.set("ja4s_r", ja4s.raw)
        #endif
        return f
    }

    /// JA4T / JA4TS and the p0f signature of one SYN or SYN+ACK. p0f reads only the outermost IP
    /// header, so a tunnelled handshake has no p0f signature.
    static func synFields(_ k: P0fKey, p0f: P0fDatabase?) -> SynPrints {
        var f = FlowReport()
        let synAck = k.facts.flags & 0x12 == 0x12
        #if JA4Plus
        let t = JA4T(k.facts)
        if synAck { f.set("ja4ts", t.pluginValue) } else { f.set("ja4t", t.value) }
        #endif
        let sig = TCPSignature(k.facts, ipVersion: k.ipVersion, peerSynMSS: k.peerMSS)
        if !k.facts.tunnelled {
            if synAck {
                f.set("p0f_synack", sig.raw)
                f.set("p0f_synack_os", p0f?.match(sig))
            } else {
                f.set("p0f_syn", sig.raw)
                f.set("p0f_syn_os", p0f?.match(sig))
            }
        }
        return SynPrints(fields: f, mss: k.facts.tunnelled ? nil : sig.mss)
    }

    static func sshFields(client: KexInit?, server: KexInit?) -> FlowReport {
        var f = FlowReport()
        if let ck = client {
            let h = HASSH(client: ck)
            f.set("hassh", h.hash)
            f.set("hassh_algorithms", h.algorithms)
        }
        if let sk = server {
            let h = HASSH(server: sk)
            f.set("hassh_server", h.hash)
            f.set("hassh_server_algorithms", h.algorithms)
        }
        if let ck = client, let sk = server {
            f.set("ssh_encryption_algorithm", HASSH.negotiatedCipher(client: ck, server: sk))
        }
        return f
    }
}

struct SynPrints { let fields: FlowReport; let mss: Int? }
struct KexPair: Hashable { let client: KexRef?; let server: KexRef? }

/// A hello as the flow saw it: decoded (tests, in-process callers) or raw (the sniff hot path).
enum HelloRef: Hashable {
    case decoded(TLSHello)
    case raw(RawMessage)

    var hello: TLSHello? {
        switch self {
        case .decoded(let h): return h
        case .raw(let m): return m.hello
        }
    }
    var serverName: String? {
        switch self {
        case .decoded(let h): return h.sni
        case .raw(let m): return m.serverName
        }
    }
    var isQUIC: Bool {
        switch self {
        case .decoded(let h): return h.isQUIC
        case .raw(let m): return m.flags & UInt8(CP_RF_QUIC) != 0
        }
    }
    /// The same hello without its server name: the fingerprints do not depend on the name.
    var cacheKey: HelloRef {
        switch self {
        case .decoded(var h): h.sni = nil; return .decoded(h)
        case .raw: return self          // RawMessage identity already excludes the name
        }
    }
}

enum KexRef: Hashable {
    case decoded(KexInit)
    case raw(RawMessage)
    var kexInit: KexInit? {
        switch self {
        case .decoded(let k): return k
        case .raw(let m): return m.kexInit
        }
    }
}

public enum Anomaly {
    public static func name(_ bit: Int) -> String { String(cString: cp_anomaly_name(UInt32(bit))) }
    public static func names(_ bits: UInt32) -> [String] {
        (0..<32).filter { bits & (1 << UInt32($0)) != 0 }.map(name)
    }
    public static var count: Int { Int(CP_AN__COUNT.rawValue) }
}

/// Cache key for p0f results: exactly the inputs a p0f signature reads, with values p0f only tests
/// for zero/non-zero reduced to that, so identical stacks share one entry.
public struct P0fKey: Hashable, Sendable {
    public let facts: TCPSynFacts
    public let ipVersion: UInt8
    public let peerMSS: Int?

    public init(_ s: TCPSynFacts, ipVersion: UInt8, peerMSS: Int?) {
        var k = s
        k.seq = s.seq == 0 ? 0 : 1
        k.ack = s.ack == 0 ? 0 : (s.ack & 0x0100_0000) | 2    // p0f reads zero-ness and the first wire byte's low bit
        k.ipID = s.ipID == 0 ? 0 : 1
        k.flowLabel = s.flowLabel == 0 ? 0 : 1
        k.payloadLength = s.payloadLength == 0 ? 0 : 1
        k.urgentPointer = s.urgentPointer == 0 ? 0 : 1
        k.options = Self.maskTimestamps(s.options)
        facts = k
        self.ipVersion = ipVersion
        self.peerMSS = peerMSS
    }

    /// Timestamp option values only matter as zero / non-zero.
    static func maskTimestamps(_ o: [UInt8]) -> [UInt8] {
        var o = o
        var i = 0
        while i < o.count {
            let kind = o[i]
            if kind == 0 { break }
            if kind == 1 { i += 1; continue }
            guard i + 1 < o.count else { break }
            let len = Int(o[i + 1])
            if kind == 8 && len == 10 && i + 10 <= o.count {
                for j in 0..<2 {
                    let base = i + 2 + 4 * j
                    let nonzero = o[base..<(base + 4)].contains { $0 != 0 }
                    for b in 0..<4 { o[base + b] = 0 }
                    if nonzero { o[base + 3] = 1 }
                }
            }
            guard len >= 2 else { break }
            i += len
        }
        return o
    }
}

/// A small memo with a hard size bound (cleared when full: simple, and bounded under hostile input).
public struct BoundedCache<Key: Hashable, Value> {
    var store: [Key: Value] = [:]
    let limit: Int
    public init(limit: Int) { self.limit = limit }
    public mutating func get(_ key: Key, _ make: (Key) -> Value) -> Value {
        if let v = store[key] { return v }
        let v = make(key)
        if store.count >= limit { store.removeAll(keepingCapacity: true) }
        store[key] = v
        return v
    }
}
