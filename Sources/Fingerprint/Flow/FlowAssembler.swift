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

    struct State {
        var syn: TCPSynFacts?, synAck: TCPSynFacts?
        var clientHellos: [TLSHello] = [], serverHellos: [TLSHello] = []
        var certs: [X509OIDs] = []
        var banners: [UInt8: String] = [:]
        var kex: [UInt8: KexInit] = [:]
        var http: [HTTPRequestHead] = []
        #if JA4Plus
        var ssh: JA4SSH
        #endif
        var traced = false
    }

    let options: Options
    var flows: [UInt32: State] = [:]
    public private(set) var reports = 0

    public init(options: Options = Options()) { self.options = options }

    public var openFlows: Int { flows.count }

    /// Feed one record; returns a report when the record ends its flow.
    public mutating func add(_ r: PacketRecord, pcap: String) -> FlowReport? {
        if case .inputEnd = r.body { return nil }
        if case .unknown = r.body { return nil }
        var st = flows[r.flowID] ?? Self.newState(options)
        switch r.body {
        case .tcpSyn(let s):
            if s.flags & 0x12 == 0x12 { if st.synAck == nil { st.synAck = s } } else if st.syn == nil { st.syn = s }
        case .clientHello(let h): st.clientHellos.append(h)
        case .serverHello(let h): st.serverHellos.append(h)
        case .certificate(let c): st.certs.append(c)
        case .sshBanner(let b): if st.banners[r.dir] == nil { st.banners[r.dir] = b }
        case .sshKexInit(let k): if st.kex[r.dir] == nil { st.kex[r.dir] = k }
        case .httpRequest(let h): st.http.append(h)
        case .packetTrace(let pkts):
            st.traced = true
            #if JA4Plus
            for p in pkts { st.ssh.add(payloadLength: Int(p.payloadLength), flags: p.flags, fromClient: p.dir == 0) }
            #endif
        case .flowEnd(let sum):
            flows[r.flowID] = nil
            reports += 1
            return Self.report(st, r, sum, pcap: pcap, options: options)
        default: break
        }
        flows[r.flowID] = st
        return nil
    }

    static func newState(_ o: Options) -> State {
        #if JA4Plus
        return State(ssh: JA4SSH(windowSize: o.sshWindow))
        #else
        return State()
        #endif
    }

    static func report(_ st: State, _ r: PacketRecord, _ sum: FlowSummary, pcap: String, options: Options) -> FlowReport {
        var st = st
        var rep = FlowReport()
        rep.set("pcap", pcap)
        rep.set("proto", r.ipProto == 6 ? "tcp" : "udp")
        rep.set("src", r.src.description)
        rep.set("dst", r.dst.description)
        rep.set("sport", Int(r.sport))
        rep.set("dport", Int(r.dport))
        let ipv = r.src.version

        if let ch = st.clientHellos.first {
            rep.set("tls_server_name", ch.sni)
            let ja3 = JA3(ch)
            rep.set("ja3", ja3.hash)
            rep.set("ja3_full", ja3.full)
            let ja4 = JA4(ch)
            rep.set("ja4", ja4.hash)
            rep.set("ja4_r", ja4.raw)
            rep.set("ja4_o", ja4.original)
            rep.set("ja4_ro", ja4.rawOriginal)
            if st.clientHellos.count > 1 {
                let all = st.clientHellos.map(JA3.init)
                rep.set("ja3_all", all.map(\.hash))
                rep.set("ja3_full_all", all.map(\.full))
            }
        }
        if let sh = st.serverHellos.first {
            let ja3s = JA3S(sh)
            rep.set("ja3s", ja3s.hash)
            rep.set("ja3s_full", ja3s.full)
            #if JA4Plus
            let ja4s = JA4S(sh)
            rep.set("ja4s", ja4s.hash)
            rep.set("ja4s_r", ja4s.raw)
            #endif
            if st.serverHellos.count > 1 {
                let all = st.serverHellos.map(JA3S.init)
                rep.set("ja3s_all", all.map(\.hash))
                rep.set("ja3s_full_all", all.map(\.full))
            }
        }
        #if JA4Plus
        if !st.certs.isEmpty {
            let x = st.certs.sorted { $0.index < $1.index }.map(JA4X.init)
            rep.set("ja4x", x.map(\.hash))
            rep.set("ja4x_r", x.map(\.raw))
        }
        if !st.http.isEmpty {
            let h = st.http.map { JA4H(method: $0.method, version: $0.version, headers: $0.headers) }
            rep.set("ja4h", h.map(\.hash))
            rep.set("ja4h_r", h.map(\.raw))
            rep.set("ja4h_ro", h.map(\.rawOriginal))
        }
        if let syn = st.syn { rep.set("ja4t", JA4T(syn).value) }
        if let sa = st.synAck { rep.set("ja4ts", JA4T(sa).pluginValue) }
        let isQUIC = st.clientHellos.first?.isQUIC ?? false
        let l = JA4L(sum, isQUIC: isQUIC, isHTTP: !st.http.isEmpty, ipVersion: ipv)
        rep.set("ja4l_c", l.client)
        rep.set("ja4l_s", l.server)
        rep.set("ja4l", l.client3)
        rep.set("ja4ls", l.server3)
        #endif

        // p0f looks only at the outermost IP header, so tunnelled handshakes have no p0f signature.
        var synSig: TCPSignature? = nil
        if let syn = st.syn, !syn.tunnelled {
            let sig = TCPSignature(syn, ipVersion: ipv)
            synSig = sig
            rep.set("p0f_syn", sig.raw)
            rep.set("p0f_syn_os", options.p0f?.match(sig))
        }
        if let sa = st.synAck, !sa.tunnelled {
            let sig = TCPSignature(sa, ipVersion: ipv, peerSynMSS: synSig?.mss)
            rep.set("p0f_synack", sig.raw)
            rep.set("p0f_synack_os", options.p0f?.match(sig))
        }

        if !st.banners.isEmpty || !st.kex.isEmpty {
            let clientDir: UInt8 = sum.synSeen || sum.synAckSeen ? sum.clientDir
                : (r.sport == 22 && r.dport != 22 ? 1 : 0)
            let serverDir: UInt8 = clientDir ^ 1
            rep.set("ssh_protocol_client", st.banners[clientDir])
            rep.set("ssh_protocol_server", st.banners[serverDir])
            if let ck = st.kex[clientDir] {
                let h = HASSH(client: ck)
                rep.set("hassh", h.hash)
                rep.set("hassh_algorithms", h.algorithms)
            }
            if let sk = st.kex[serverDir] {
                let h = HASSH(server: sk)
                rep.set("hassh_server", h.hash)
                rep.set("hassh_server_algorithms", h.algorithms)
            }
            if let ck = st.kex[clientDir], let sk = st.kex[serverDir] {
                rep.set("ssh_encryption_algorithm", HASSH.negotiatedCipher(client: ck, server: sk))
            }
        }
        #if JA4Plus
        if st.traced { rep.set("ja4ssh", st.ssh.finish()) }
        #endif
        rep.set("anomalies", Anomaly.names(r.anomalies))
        return rep
    }
}

public enum Anomaly {
    public static func name(_ bit: Int) -> String { String(cString: cp_anomaly_name(UInt32(bit))) }
    public static func names(_ bits: UInt32) -> [String] {
        (0..<32).filter { bits & (1 << UInt32($0)) != 0 }.map(name)
    }
    public static var count: Int { Int(CP_AN__COUNT.rawValue) }
}
