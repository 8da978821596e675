// SessionTracker.swift: live records in, catalogue events out, as soon as each one is known:
//   SYN -> tcp_syn_fingerprint; ClientHello -> tls_client_hello (QUIC: quic_client_hello);
//   ServerHello (+ the certificate chain that follows it in TLS <= 1.2) -> tls_session;
//   client SSH identification line -> ssh_client_banner; HTTP request head -> http_request_fingerprint;
//   flow end (FIN/RST, idle, eviction, shutdown) -> tcp_flow_timing, ssh_kex, anomaly.<kind>.
// Pure state machine: no clock (times come from records and from the caller's sweep), no I/O.
// Every table is bounded: flow states by maxFlows (oldest activity evicted, counted), SYN samples
// per source by maxSources.
import CPacket
import Fingerprint

public struct SessionTracker {
    public struct Options: Sendable {
        public var p0f: P0fDatabase?
        public var deckies: [IPAddress: String]
        /// Only emit events whose destination (or source) is a decky.
        public var deckiesOnly: Bool
        public var maxFlows: Int
        public var maxSources: Int
        /// How long a ServerHello waits for its certificate chain before tls_session goes out anyway.
        public var certificateWaitNs: UInt64
        /// The source carries TLS key logs (pcapng Decryption Secrets Blocks), so a TLS 1.3 server's encrypted
        /// certificate chain can be read: tls_session then waits for it as it does for TLS <= 1.2. Live
        /// capture has no key log, so TLS 1.3 sessions go out at the ServerHello.
        public var decryptsTLS13 = false
        public init(p0f: P0fDatabase? = nil, deckies: [IPAddress: String] = [:], deckiesOnly: Bool = false,
                    maxFlows: Int = 1 << 20, maxSources: Int = 1 << 18, certificateWaitNs: UInt64 = 1_000_000_000) {
            self.p0f = p0f
            self.deckies = deckies
            self.deckiesOnly = deckiesOnly
            self.maxFlows = maxFlows
            self.maxSources = maxSources
            self.certificateWaitNs = certificateWaitNs
        }
    }

    public struct Counters: Sendable {
        public var flowsEvicted = 0       // states dropped at the cap (their flow-end events are lost)
        public var sourcesReset = 0       // SYN-sample table cleared at its cap
        public var outOfScope = 0         // events for non-decky traffic when deckiesOnly
    }

    final class Flow {
        var lastNs: UInt64 = 0
        var clientDir: UInt8? = nil
        var synNs: UInt64 = 0, synTTL: UInt8 = 0, synAckNs: UInt64 = 0
        var clientHello: ClientPrints? = nil
        var pending: (hello: ServerPrints, ns: UInt64)? = nil
        var sessionDone = false
        var certs: [String] = []
        var banners: (String?, String?) = (nil, nil)
        var kex: (KexInit?, KexInit?) = (nil, nil)
        var httpSeen = false
        var sni: String? = nil
        /// The flow's endpoints in record orientation (dir 0 = the first packet's sender).
        var ends: (IPAddress, UInt16, IPAddress, UInt16)? = nil
        #if JA4Plus
        var ssh: JA4SSH? = nil
        #endif
    }

    struct Samples { var ipid: [UInt32] = []; var isn: [UInt32] = [] }

    /// What a ClientHello / ServerHello / SYN contributes to events, computed once per distinct message:
    /// clients and attack tools repeat the same hellos and stacks endlessly.
    struct ClientPrints {
        let quic: Bool
        let ja3: String, ja4: String, version: String, alpn: String, ciphers: String, extensions: String, versions: String
        init(_ h: TLSHello) {
            quic = h.isQUIC
            ja3 = JA3(h).hash
            ja4 = JA4(h).hash
            version = SessionTracker.versionName(SessionTracker.clientMaxVersion(h))
            alpn = SessionTracker.alpn(h.alpn)
            ciphers = SessionTracker.dashed(h.ciphers)
            extensions = SessionTracker.dashed(h.extensions)
            versions = h.supportedVersions.filter { !isGREASE($0) }.map(SessionTracker.versionName).joined(separator: ",")
        }
    }
    struct ServerPrints {
        let hrr: Bool, selected: UInt16
        let ja3s: String, ja4s: String?, version: String, cipher: String
        init(_ h: TLSHello) {
            hrr = h.isHelloRetryRequest
            selected = h.supportedVersions.first ?? h.legacyVersion
            ja3s = JA3S(h).hash
            #if JA4Plus
            ja4s = JA4S(h).hash
            #else
            ja4s = nil
            #endif
            version = SessionTracker.versionName(selected)
            cipher = String(h.cipher)
        }
    }
    struct SynPrints { let fields: [(String, String)]; let tail: [(String, String)] }

    var clientCache = BoundedCache<RawMessage, ClientPrints?>(limit: 4096)
    var serverCache = BoundedCache<RawMessage, ServerPrints?>(limit: 4096)
    var synCache = BoundedCache<P0fKey, SynPrints>(limit: 4096)

    public var options: Options
    public private(set) var counters = Counters()
    var flows: [UInt32: Flow] = [:]
    var pendingSessions: Set<UInt32> = []
    var samples: [IPAddress: Samples] = [:]

    public init(options: Options = Options()) { self.options = options }
    public var openFlows: Int { flows.count }

    // MARK: records

    public mutating func add(_ r: PacketRecord, into out: inout [SensorEvent]) {
        switch r.body {
        case .inputEnd, .unknown: return
        case .flowEnd(let sum):
            let st = flows.removeValue(forKey: r.flowID) ?? Flow()
            pendingSessions.remove(r.flowID)
            if st.ends == nil { st.ends = (r.src, r.sport, r.dst, r.dport) }
            flowEnded(st, r, sum, into: &out)
            return
        default: break
        }
        let st = flow(r.flowID)
        if r.timestampNs > st.lastNs { st.lastNs = r.timestampNs }
        if st.ends == nil { st.ends = (r.src, r.sport, r.dst, r.dport) }
        // A certificate chain ends at the next record that is not a certificate.
        if st.pending != nil, !isCertificate(r) { finishSession(st, r, into: &out); pendingSessions.remove(r.flowID) }
        switch r.body {
        case .tcpSyn(let s):
            if s.flags & 0x12 == 0x02 {
                if st.clientDir == nil { st.clientDir = r.dir }
                if st.synNs == 0 { st.synNs = r.timestampNs; st.synTTL = s.ttl }
                synEvent(s, r, into: &out)
            } else if s.flags & 0x12 == 0x12 {
                if st.clientDir == nil { st.clientDir = r.dir ^ 1 }
                if st.synAckNs == 0 { st.synAckNs = r.timestampNs }
            }
        case .clientHello(let h): clientHello(ClientPrints(h), sni: h.sni, st, r, into: &out)
        case .rawHello(let m):
            if m.kind == UInt16(CP_REC_TLS_CLIENT_HELLO.rawValue) {
                guard let p = clientCache.get(m, { $0.hello.map(ClientPrints.init) }) else { return }
                clientHello(p, sni: m.serverName, st, r, into: &out)
            } else {
                guard let p = serverCache.get(m, { $0.hello.map(ServerPrints.init) }) else { return }
                serverHello(p, st, r, into: &out)
            }
        case .serverHello(let h): serverHello(ServerPrints(h), st, r, into: &out)
        case .certificate(let c):
            #if JA4Plus
            if st.certs.count < 16 { st.certs.append(JA4X(c).hash) }
            #endif
            _ = c
        case .sshBanner(let b):
            let fromClient = isClient(st, r)
            if fromClient {
                if st.banners.0 == nil {
                    st.banners.0 = b
                    var e = event(EventCatalogue.sshClientBanner, st, r)
                    e.set("ssh_version", b)
                    emit(e, into: &out)
                }
            } else if st.banners.1 == nil { st.banners.1 = b }
        case .sshKexInit(let k): kexInit(k, st, r)
        case .rawKexInit(let m): if let k = m.kexInit { kexInit(k, st, r) }
        case .httpRequest(let h):
            st.httpSeen = true
            var e = event(EventCatalogue.httpRequestFingerprint, st, r)
            #if JA4Plus
            e.set("ja4h", JA4H(method: h.method, version: h.version, headers: h.headers).hash)
            #endif
            e.set("method", h.method)
            e.set("host", header(h, "host") ?? "")
            e.set("path", h.target)
            e.set("user_agent", header(h, "user-agent") ?? "")
            e.set("http_version", h.version)
            emit(e, into: &out)
        case .packetTrace(let pkts):
            #if JA4Plus
            if st.ssh == nil { st.ssh = JA4SSH() }
            for p in pkts { st.ssh!.add(payloadLength: Int(p.payloadLength), isSSH: p.isSSH, flags: p.flags, fromClient: p.dir == (st.clientDir ?? 0)) }
            #endif
            _ = pkts
        default: break
        }
    }

    /// Time moves on without records (live capture): sessions whose certificates never came go out,
    /// and the flow-state table is trimmed back under its cap.
    public mutating func sweep(nowNs: UInt64, into out: inout [SensorEvent]) {
        if !pendingSessions.isEmpty {
            for id in pendingSessions {
                guard let st = flows[id], let p = st.pending else { continue }
                if nowNs >= p.ns &+ options.certificateWaitNs { finishSession(st, nil, into: &out); pendingSessions.remove(id) }
            }
        }
        trim()
    }

    /// Shutdown with flows the engine did not end: pending sessions go out.
    public mutating func finish(into out: inout [SensorEvent]) {
        for id in pendingSessions { if let st = flows[id], st.pending != nil { finishSession(st, nil, into: &out) } }
        pendingSessions.removeAll()
        flows.removeAll()
    }

    // MARK: events

    mutating func synEvent(_ s: TCPSynFacts, _ r: PacketRecord, into out: inout [SensorEvent]) {
        // IP-ID / ISN samples: the last 8 SYNs of this source.
        if samples.count >= options.maxSources && samples[r.src] == nil { samples.removeAll(keepingCapacity: true); counters.sourcesReset += 1 }
        var smp = samples[r.src] ?? Samples()
        smp.ipid.append(UInt32(s.ipID)); if smp.ipid.count > 8 { smp.ipid.removeFirst() }
        smp.isn.append(s.seq); if smp.isn.count > 8 { smp.isn.removeFirst() }
        samples[r.src] = smp
        let p0f = options.p0f
        let prints = synCache.get(P0fKey(s, ipVersion: r.src.version, peerMSS: nil)) { k in
            let shape = SynShape(k.facts)
            let head: [(String, String)] = [
                ("ttl", String(shape.ttl)), ("initial_ttl", String(shape.initialTTL)), ("hop_distance", String(shape.hopDistance)),
                ("window", String(shape.window)), ("mss", shape.mss.map(String.init) ?? ""), ("wscale", shape.wscale.map(String.init) ?? ""),
                ("options_sig", shape.optionsSignature), ("has_sack", shape.hasSACK ? "true" : "false"),
                ("has_timestamps", shape.hasTimestamps ? "true" : "false"), ("tos", String(shape.tos)), ("dscp", String(shape.dscp)),
                ("ecn", String(shape.ecn)),
            ]
            var tail: [(String, String)] = [("os_guess", shape.osGuess)]
            #if JA4Plus
            tail.append(("ja4t", JA4T(k.facts).value))
            #endif
            if !k.facts.tunnelled {
                let sig = TCPSignature(k.facts, ipVersion: k.ipVersion)
                tail.append(("p0f_signature", sig.raw))
                if let os = p0f?.match(sig) { tail.append(("p0f_os", os)) }
            }
            return SynPrints(fields: head, tail: tail)
        }
        var e = SensorEvent(EventCatalogue.tcpSynFingerprint, timestampNs: r.timestampNs, src: r.src, srcPort: r.sport, dst: r.dst, dstPort: r.dport)
        for (k, v) in prints.fields { e.set(k, v) }
        e.set("ipid_class", r.src.version == 4 ? SequenceClass.classify(smp.ipid, modulus: 1 << 16) : "unknown")
        e.set("ipid_samples", smp.ipid.map(String.init).joined(separator: ","))
        e.set("isn_class", SequenceClass.classify(smp.isn))
        e.set("isn_samples", smp.isn.map(String.init).joined(separator: ","))
        for (k, v) in prints.tail { e.set(k, v) }
        emit(e, into: &out)
    }

    mutating func clientHello(_ p: ClientPrints, sni: String?, _ st: Flow, _ r: PacketRecord, into out: inout [SensorEvent]) {
        if st.clientHello == nil { st.clientHello = p; st.sni = sni; if st.clientDir == nil { st.clientDir = r.dir } }
        else { return }                                  // a second hello (after HRR): the first one names the client
        if p.quic {
            var e = event(EventCatalogue.quicClientHello, st, r)
            e.set("ja4_quic", p.ja4)
            e.set("sni", sni ?? "")
            e.set("alpn", p.alpn)
            e.set("raw_ciphers", p.ciphers)
            emit(e, into: &out)
            return
        }
        var e = event(EventCatalogue.tlsClientHello, st, r)
        e.set("ja3", p.ja3)
        e.set("ja4", p.ja4)
        e.set("tls_version", p.version)
        e.set("sni", sni ?? "")
        e.set("alpn", p.alpn)
        e.set("raw_ciphers", p.ciphers)
        e.set("raw_extensions", p.extensions)
        emit(e, into: &out)
    }

    mutating func serverHello(_ h: ServerPrints, _ st: Flow, _ r: PacketRecord, into out: inout [SensorEvent]) {
        // The first ServerHello names the session, a HelloRetryRequest included: JA3S/JA4S are defined on it
        // (the corpus' references and the offline fold agree).
        guard !st.sessionDone, st.pending == nil, st.clientHello != nil else { return }
        st.pending = (h, r.timestampNs)
        if h.selected == 0x0304 && !options.decryptsTLS13 {
            finishSession(st, r, into: &out)             // TLS 1.3: the chain is encrypted, nothing to wait for
        } else {
            pendingSessions.insert(r.flowID)
        }
    }

    mutating func finishSession(_ st: Flow, _ r: PacketRecord?, into out: inout [SensorEvent]) {
        guard let (sh, ns) = st.pending, let ch = st.clientHello else { st.pending = nil; return }
        st.pending = nil
        st.sessionDone = true
        guard let (src, sport, dst, dport) = endpoints(st, r) ?? r.map({ ($0.src, $0.sport, $0.dst, $0.dport) }) else { return }
        var e = SensorEvent(EventCatalogue.tlsSession, timestampNs: ns, src: src, srcPort: sport, dst: dst, dstPort: dport)
        e.set("ja3", ch.ja3)
        e.set("ja3s", sh.ja3s)
        e.set("ja4", ch.ja4)
        e.set("ja4s", sh.ja4s)
        e.set("tls_version", sh.version)
        e.set("client_versions", ch.versions)
        e.set("cipher", sh.cipher)
        e.set("sni", st.sni ?? "")
        e.set("alpn", ch.alpn)
        e.set("raw_ciphers", ch.ciphers)
        e.set("raw_extensions", ch.extensions)
        if !st.certs.isEmpty { e.set("ja4x", st.certs.joined(separator: ",")) }
        if st.synNs > 0, st.synAckNs >= st.synNs {
            e.set("ja4l_rtt_ms", decimalText(Double(st.synAckNs - st.synNs) / 1e6, 3))
            e.set("ja4l_client_ttl", String(st.synTTL))
        }
        emit(e, into: &out)
    }

    func kexInit(_ k: KexInit, _ st: Flow, _ r: PacketRecord) {
        if isClient(st, r) { if st.kex.0 == nil { st.kex.0 = k } } else if st.kex.1 == nil { st.kex.1 = k }
    }

    mutating func flowEnded(_ st: Flow, _ r: PacketRecord, _ sum: FlowSummary, into out: inout [SensorEvent]) {
        if st.clientDir == nil { st.clientDir = sum.synSeen || sum.synAckSeen ? sum.clientDir : (r.sport == 22 && r.dport != 22 ? 1 : 0) }
        if st.pending != nil { finishSession(st, r, into: &out) }
        if r.ipProto == 6 {
            let packets = sum.packets.0 + sum.packets.1
            let duration = Double(sum.lastNs &- sum.firstNs) / 1e9
            if !(packets < 4 && sum.retransmits == 0 && duration < 1) {
                var e = event(EventCatalogue.tcpFlowTiming, st, r)
                e.timestampNs = sum.lastNs
                e.set("packets", String(packets))
                e.set("bytes", String(sum.bytes.0 + sum.bytes.1))
                e.set("duration_s", decimalText(duration, 3))
                let mean = packets > 1 ? Double(sum.lastNs &- sum.firstNs) / Double(packets - 1) / 1e6 : 0
                e.set("mean_iat_ms", decimalText(mean, 2))
                e.set("min_iat_ms", decimalText(Double(sum.iatMinNs) / 1e6, 2))
                e.set("max_iat_ms", decimalText(Double(sum.iatMaxNs) / 1e6, 2))
                e.set("retransmits", String(sum.retransmits))
                e.set("ended_by", ["shutdown", "closed", "idle", "evicted"][Int(min(sum.endedBy, 3))])
                #if JA4Plus
                let l = JA4L(sum, isQUIC: false, isHTTP: st.httpSeen, ipVersion: r.src.version)
                e.set("ja4l_c", l.client)
                e.set("ja4l_s", l.server)
                #endif
                emit(e, into: &out)
            }
        }
        var hasSSH = st.banners.0 != nil || st.banners.1 != nil || st.kex.0 != nil || st.kex.1 != nil
        #if JA4Plus
        if st.ssh != nil && (sum.app & UInt8(CP_APP_SSH)) != 0 { hasSSH = true }
        #endif
        if hasSSH {
            var e = event(EventCatalogue.sshKex, st, r)
            e.timestampNs = sum.lastNs
            e.set("client_banner", st.banners.0)
            e.set("server_banner", st.banners.1)
            if let ck = st.kex.0 { let h = HASSH(client: ck); e.set("hassh", h.hash); e.set("hassh_algorithms", h.algorithms) }
            if let sk = st.kex.1 { let h = HASSH(server: sk); e.set("hassh_server", h.hash); e.set("hassh_server_algorithms", h.algorithms) }
            if let ck = st.kex.0, let sk = st.kex.1 { e.set("encryption", HASSH.negotiatedCipher(client: ck, server: sk)) }
            #if JA4Plus
            if st.ssh != nil {
                let w = st.ssh!.finish()
                if !w.isEmpty { e.set("ja4ssh", w.joined(separator: ",")) }
            }
            #endif
            emit(e, into: &out)
        }
        let evicted = UInt32(1) << UInt32(CP_AN_FLOW_EVICTED.rawValue)
        var bits = r.anomalies & ~evicted                 // eviction is a counter, not an attacker's doing
        while bits != 0 {
            let b = bits.trailingZeroBitCount
            bits &= bits - 1
            let kind = Anomaly.name(b)
            var e = event(EventCatalogue.anomaly(kind), st, r)
            e.timestampNs = sum.lastNs
            e.set("kind", kind)
            e.set("proto", r.ipProto == 6 ? "tcp" : "udp")
            emit(e, into: &out)
        }
    }

    // MARK: helpers

    mutating func flow(_ id: UInt32) -> Flow {
        if let f = flows[id] { return f }
        let f = Flow()
        flows[id] = f
        return f
    }

    mutating func trim() {
        guard flows.count > options.maxFlows else { return }
        // Keep the most recently active 90%: one sort per overflow, not per record.
        let keep = options.maxFlows * 9 / 10
        let victims = flows.sorted { $0.value.lastNs < $1.value.lastNs }.prefix(flows.count - keep)
        for (id, _) in victims { flows.removeValue(forKey: id); pendingSessions.remove(id) }
        counters.flowsEvicted += victims.count
    }

    func isCertificate(_ r: PacketRecord) -> Bool {
        if case .certificate = r.body { return true }
        return false
    }

    func isClient(_ st: Flow, _ r: PacketRecord) -> Bool {
        if let c = st.clientDir { return r.dir == c }
        // No handshake seen: the side talking to port 22 (SSH) is the client; else the first sender.
        let dstPort = r.dir == 0 ? r.dport : r.sport
        let srcPort = r.dir == 0 ? r.sport : r.dport
        if dstPort == 22 && srcPort != 22 { return true }
        if srcPort == 22 && dstPort != 22 { return false }
        return r.dir == 0
    }

    /// Endpoints with the client (attacker) as source.
    func endpoints(_ st: Flow, _ r: PacketRecord?) -> (IPAddress, UInt16, IPAddress, UInt16)? {
        guard let (a, ap, b, bp) = st.ends else { return nil }
        let c = st.clientDir ?? r.map { isClient(st, $0) ? $0.dir : $0.dir ^ 1 } ?? 0
        return c == 0 ? (a, ap, b, bp) : (b, bp, a, ap)
    }

    func event(_ spec: EventSpec, _ st: Flow, _ r: PacketRecord) -> SensorEvent {
        let (s, sp, d, dp) = endpoints(st, r) ?? (r.src, r.sport, r.dst, r.dport)
        return SensorEvent(spec, timestampNs: r.timestampNs, src: s, srcPort: sp, dst: d, dstPort: dp)
    }

    mutating func emit(_ e: SensorEvent, into out: inout [SensorEvent]) {
        var e = e
        e.decky = options.deckies[e.dst] ?? options.deckies[e.src]
        if options.deckiesOnly && e.decky == nil { counters.outOfScope += 1; return }
        out.append(e)
    }

    func header(_ h: HTTPRequestHead, _ name: String) -> String? {
        h.headers.first { $0.name.lowercased() == name }?.value
    }

    static func dashed(_ v: [UInt16]) -> String { v.map(String.init).joined(separator: "-") }

    static func alpn(_ a: [UInt8]?) -> String {
        guard let a else { return "" }
        return String(decoding: a.map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }

    static func clientMaxVersion(_ h: TLSHello) -> UInt16 {
        h.supportedVersions.filter { !isGREASE($0) }.max() ?? h.legacyVersion
    }

    static func versionName(_ v: UInt16) -> String {
        switch v {
        case 0x0304: return "1.3"
        case 0x0303: return "1.2"
        case 0x0302: return "1.1"
        case 0x0301: return "1.0"
        case 0x0300: return "ssl3"
        case 0xfeff: return "dtls1.0"
        case 0xfefd: return "dtls1.2"
        case 0xfefc: return "dtls1.3"
        default: return "0x" + Hex.hex4(v)
        }
    }
}

