// SSHTransport.swift: the server side of the SSH transport layer (RFC 4253) as OpenSSH runs it:
// identification exchange (our banner at once, our KEXINIT only after the client's version line, as sshd),
// algorithm negotiation over the persona's lists, the key exchanges the personas advertise
// (sntrup761x25519-sha512, curve25519-sha256, ecdh-sha2-nistp256/384/521, diffie-hellman-group14/16/18 and
// group-exchange-sha256), NEWKEYS, strict KEX (kex-strict-*-v00@openssh.com: sequence numbers reset at
// NEWKEYS, nothing but KEX messages during the first exchange), EXT_INFO (RFC 8308), delayed zlib
// compression, and client-initiated re-keying. Packet protection is CPacket's (dc_ssh.h).
//
// Everything the client sends is hostile: a malformed message, a bad MAC, an oversized length, a protocol
// violation all end in `fail(kind, detail)`: an `ssh.protocol.anomaly` event, a DISCONNECT when keys allow,
// and the connection closes. Service-layer payloads (auth, channels) go to `onPayload` once keys are in use.
import CDecoyCrypto
import Fingerprint

final class SSHTransport {
    enum Phase { case version, packets, closed }
    enum Expect { case kexinit, dhInit, gexRequest, gexInit, newkeys, none }
    enum KexKind { case curve25519, ecdh(Int), dh(Int), gex, sntrup }

    struct Negotiated {
        var kex: String, hostKey: String, encC2S: String, encS2C: String, macC2S: String, macS2C: String
        var compC2S: String, compS2C: String
        var kind: KexKind
        var hashAlg: Int32
    }

    let persona: SSHPersona
    let hostKeys: SSHHostKeys
    let info: DecoySessionInfo
    var io: DecoyIO!

    private(set) var phase = Phase.version
    private(set) var clientVersion: String?
    private(set) var clientLists: [[String]]?
    private(set) var negotiated: Negotiated?
    private(set) var sessionID: [UInt8]?
    /// Keys are in use in both directions (the first exchange is complete).
    private(set) var secure = false
    var strict = false
    var clientExtInfo = false

    /// Service-layer payload (message number first) and its sequence number.
    var onPayload: (([UInt8], UInt32) -> Void)?
    /// The client's KEXINIT of the first exchange (for the kex event).
    var onClientKex: ((_ lists: [[String]], _ negotiated: Negotiated) -> Void)?
    var onClientVersion: ((String) -> Void)?

    private var inbuf: [UInt8] = []
    private var inStart = 0
    private var scratch: [UInt8] = []
    private var inflated: [UInt8] = []
    private var sendSeq: UInt32 = 0, recvSeq: UInt32 = 0
    private var sendCipher: OpaquePointer?, recvCipher: OpaquePointer?
    private var nextRecvCipher: OpaquePointer?
    private var sendZ: OpaquePointer?, recvZ: OpaquePointer?
    private var serverKexInit: [UInt8]?, clientKexInit: [UInt8]?
    private var expect = Expect.kexinit
    private var kexInProgress = true
    private var firstKex = true
    private var ignoreGuess = false
    private var queued: [[UInt8]] = []
    private var gexRequest: (min: UInt32, n: UInt32, max: UInt32, group: SSHModuli.Group)?
    /// sshd accepts identification lines of up to 8192 bytes (measured: 8010 answered, 8193 refused).
    static let maxBanner = 8192

    init(persona: SSHPersona, hostKeys: SSHHostKeys, info: DecoySessionInfo) {
        self.persona = persona
        self.hostKeys = hostKeys
        self.info = info
    }

    deinit {
        dc_ssh_cipher_free(sendCipher); dc_ssh_cipher_free(recvCipher); dc_ssh_cipher_free(nextRecvCipher)
        dc_ssh_z_free(sendZ); dc_ssh_z_free(recvZ)
    }

    /// The server's identification line, sent on connect.
    func start() { io.send(Array((persona.banner + "\r\n").utf8)) }

    // MARK: input

    func receive(_ bytes: [UInt8]) {
        guard phase != .closed else { return }
        inbuf += bytes
        if phase == .version { readVersion() }
        while phase == .packets { guard readPacket() else { break } }
        if inStart > 0 && (inStart >= inbuf.count || inStart > 65_536) {
            inbuf.removeFirst(inStart)
            inStart = 0
        }
    }

    private func readVersion() {
        let invalid = Array("Invalid SSH identification string.".utf8)          // sshd's words, no CR LF
        guard let nl = inbuf[inStart...].firstIndex(of: 0x0a) else {
            if inbuf.count - inStart > SSHTransport.maxBanner + 1 {
                io.send(invalid)
                fail("bad_identification", "no end of line within \(SSHTransport.maxBanner) bytes", disconnect: false)
            }
            return
        }
        var line = Array(inbuf[inStart..<nl])
        inStart = nl + 1
        if line.last == 0x0d { line.removeLast() }
        let text = DecoyEvents.printable(line, max: 512)
        guard line.count <= SSHTransport.maxBanner else {
            io.send(invalid)
            fail("bad_identification", "identification line of \(line.count) bytes", disconnect: false)
            return
        }
        guard text.hasPrefix("SSH-") else {
            io.send(invalid)
            fail("bad_identification", "not an SSH identification: \(text.prefix(64))", disconnect: false)
            return
        }
        clientVersion = text
        onClientVersion?(text)
        guard text.hasPrefix("SSH-2.0-") || text.hasPrefix("SSH-1.99-") else {
            io.send(Array("Protocol major versions differ.\r\n".utf8))
            fail("bad_identification", "protocol version \(text.prefix(64))", disconnect: false)
            return
        }
        phase = .packets
        sendKexInit()
    }

    /// One packet from inbuf; false when more bytes are needed or the connection ended.
    private func readPacket() -> Bool {
        // Room for a full-size channel packet; grown (up to 256 KiB) only for a client that sends larger ones.
        if scratch.isEmpty { scratch = [UInt8](repeating: 0, count: 36 * 1024) }
        var consumed = 0, plen = 0
        let avail = inbuf.count - inStart
        var r: Int32
        repeat {
            r = inbuf.withUnsafeBufferPointer { inb in
                scratch.withUnsafeMutableBufferPointer { out in
                    dc_ssh_open(recvCipher, recvSeq, inb.baseAddress! + inStart, avail, out.baseAddress, out.count, &consumed, &plen)
                }
            }
            if r == Int32(DC_SSH_TOO_BIG) && plen > scratch.count { scratch = [UInt8](repeating: 0, count: plen + 64) } else { break }
        } while true
        switch r {
        case Int32(DC_SSH_NEED_MORE): return false
        case Int32(DC_SSH_OK): break
        case Int32(DC_SSH_BAD_LENGTH): fail("bad_packet_length", "packet length out of range or misaligned"); return false
        case Int32(DC_SSH_BAD_MAC): fail("bad_mac", "corrupted MAC on input", disconnectCode: SSHDisconnect.macError); return false
        case Int32(DC_SSH_BAD_PADDING): fail("bad_padding", "padding length out of range"); return false
        default: fail("crypto_error", "packet could not be opened (\(r))"); return false
        }
        inStart += consumed
        var payload = Array(scratch.prefix(plen))
        if let z = recvZ {
            if inflated.isEmpty { inflated = [UInt8](repeating: 0, count: Int(DC_SSH_MAX_PACKET)) }
            let n = payload.withUnsafeBufferPointer { p in
                inflated.withUnsafeMutableBufferPointer { out in dc_ssh_z_run(z, p.baseAddress, p.count, out.baseAddress, out.count) }
            }
            guard n >= 0 else { fail("bad_compression", n == Int(DC_SSH_TOO_BIG) ? "decompressed packet over 256 KiB" : "corrupt zlib stream"); return false }
            payload = Array(inflated.prefix(Int(n)))
        }
        let seq = recvSeq
        recvSeq &+= 1
        handle(payload, seq: seq)
        return phase == .packets
    }

    private func handle(_ p: [UInt8], seq: UInt32) {
        guard let type = p.first else { fail("malformed_message", "empty payload"); return }
        do {
            // Strict KEX (OpenSSH PROTOCOL §1.10): the first exchange admits KEX messages only, KEXINIT first.
            if firstKex && kexInProgress && strict {
                let kexMsg = type == SSHMsg.kexinit || type == SSHMsg.newkeys || (30...49).contains(type)
                if !kexMsg && type != SSHMsg.disconnect {
                    fail("strict_kex_violation", "strict KEX violation: unexpected packet type \(type) (seqnr \(seq))")
                    return
                }
            }
            switch type {
            case SSHMsg.disconnect:
                var r = SSHReader(p, offset: 1)
                let code = (try? r.u32()) ?? 0
                let text = (try? r.text(max: 1024)) ?? ""
                io.emit(info.event(SSHEvents.disconnect, [("code", String(code)), ("reason", DecoyEvents.printable(Array(text.utf8), max: 256))]))
                phase = .closed
                io.close()
            case SSHMsg.ignore, SSHMsg.debug, SSHMsg.unimplemented:
                break
            case SSHMsg.kexinit:
                try clientKexInit(p, seq: seq)
            case SSHMsg.newkeys:
                guard expect == .newkeys else { fail("unexpected_message", "NEWKEYS out of order"); return }
                dc_ssh_cipher_free(recvCipher)
                recvCipher = nextRecvCipher
                nextRecvCipher = nil
                if strict { recvSeq = 0 }
                expect = .none
                kexInProgress = false
                firstKex = false
                secure = true
                let q = queued
                queued = []
                for m in q { send(m) }
            case 30...49:
                if ignoreGuess { ignoreGuess = false; return }
                try kexMessage(p)
            default:
                if !secure && clientKexInit == nil {
                    // Before the client's KEXINIT sshd answers UNIMPLEMENTED and carries on (kex_protocol_error).
                    io.emit(info.event(SSHEvents.anomaly, [("kind", "unexpected_message"), ("detail", "message \(type) before KEXINIT")]))
                    var w = SSHWriter(SSHMsg.unimplemented)
                    w.u32(seq)
                    writePacket(w.bytes)
                    return
                }
                guard secure, !kexInProgress else { fail("unexpected_message", "message \(type) during the key exchange"); return }
                onPayload?(p, seq)
            }
        } catch {
            fail("malformed_message", "message \(type): \(error)")
        }
    }

    // MARK: key exchange

    private func sendKexInit() {
        var w = SSHWriter(SSHMsg.kexinit)
        var cookie = [UInt8](repeating: 0, count: 16)
        _ = dc_random_bytes(&cookie, 16)
        w.raw(cookie)
        for l in persona.lists { w.nameList(l) }
        w.bool(false)
        w.u32(0)
        serverKexInit = w.bytes
        kexInProgress = true
        writePacket(w.bytes)
    }

    private static let pseudoKex: Set<String> = ["ext-info-c", "ext-info-s", "kex-strict-c-v00@openssh.com", "kex-strict-s-v00@openssh.com"]

    private func clientKexInit(_ p: [UInt8], seq: UInt32) throws {
        guard expect == .kexinit || (expect == .none && !kexInProgress) else { fail("unexpected_message", "KEXINIT during a key exchange"); return }
        var r = SSHReader(p, offset: 1)
        guard r.remaining >= 16 else { throw SSHWireError("short cookie") }
        for _ in 0..<16 { _ = try r.byte() }
        var lists: [[String]] = []
        for _ in 0..<10 { lists.append(try r.nameList()) }
        let follows = try r.bool()
        _ = try r.u32()
        if firstKex {
            strict = lists[0].contains("kex-strict-c-v00@openssh.com") && persona.kex.contains("kex-strict-s-v00@openssh.com")
            if strict && seq != 0 { fail("strict_kex_violation", "KEXINIT was not the first packet"); return }
            clientExtInfo = lists[0].contains("ext-info-c")
        }
        if expect == .none {                    // client-initiated re-key: answer with ours
            sendKexInit()
        }
        clientKexInit = p
        func pick(_ c: [String], _ s: [String], _ what: String) throws -> String {
            guard let x = c.first(where: { s.contains($0) && !SSHTransport.pseudoKex.contains($0) }) else {
                throw NegotiationError(what: what, client: c)
            }
            return x
        }
        let n: Negotiated
        do {
            let kex = try pick(lists[0], persona.kex, "key exchange")
            let hk = try pick(lists[1], persona.hostKeys.filter { hostKeys.has($0) }, "host key")
            let (kind, hash) = SSHTransport.kexKind(kex)
            n = Negotiated(kex: kex, hostKey: hk, encC2S: try pick(lists[2], persona.ciphers, "cipher"),
                           encS2C: try pick(lists[3], persona.ciphers, "cipher"),
                           macC2S: try pick(lists[4], persona.macs, "MAC"), macS2C: try pick(lists[5], persona.macs, "MAC"),
                           compC2S: try pick(lists[6], persona.compression, "compression"),
                           compS2C: try pick(lists[7], persona.compression, "compression"), kind: kind, hashAlg: hash)
            if follows && (lists[0].first != kex || lists[1].first != hk) { ignoreGuess = true }
        } catch let e as NegotiationError {
            if clientLists == nil { clientLists = lists }
            fail("no_common_algorithm", "no matching \(e.what) found: client \(e.client.prefix(8).joined(separator: ","))",
                 disconnectCode: SSHDisconnect.keyExchangeFailed)
            return
        }
        if clientLists == nil {
            clientLists = lists
            onClientKex?(lists, n)
        }
        negotiated = n
        if case .gex = n.kind { expect = .gexRequest } else { expect = .dhInit }
    }

    struct NegotiationError: Error { let what: String; let client: [String] }

    static func kexKind(_ name: String) -> (KexKind, Int32) {
        switch name {
        case "curve25519-sha256", "curve25519-sha256@libssh.org": return (.curve25519, 256)
        case "ecdh-sha2-nistp256": return (.ecdh(256), 256)
        case "ecdh-sha2-nistp384": return (.ecdh(384), 384)
        case "ecdh-sha2-nistp521": return (.ecdh(521), 512)
        case "diffie-hellman-group14-sha256": return (.dh(2048), 256)
        case "diffie-hellman-group16-sha512": return (.dh(4096), 512)
        case "diffie-hellman-group18-sha512": return (.dh(8192), 512)
        case "diffie-hellman-group-exchange-sha256": return (.gex, 256)
        default: return (.sntrup, 512)          // sntrup761x25519-sha512 and its @openssh.com alias
        }
    }


    private func kexMessage(_ p: [UInt8]) throws {
        guard let n = negotiated else { fail("unexpected_message", "key exchange message before KEXINIT"); return }
        var r = SSHReader(p, offset: 1)
        let type = p[0]
        switch (expect, type) {
        case (.gexRequest, SSHMsg.gexRequest):
            let mn = try r.u32(), want = try r.u32(), mx = try r.u32()
            guard mn <= want, want <= mx, mx >= 1024 else { fail("bad_key_exchange_value", "group exchange request \(mn)/\(want)/\(mx)"); return }
            guard let group = SSHModuli.shared.choose(min: mn, n: want, max: mx) else {
                fail("bad_key_exchange_value", "no group within \(mn)..\(mx)", disconnectCode: SSHDisconnect.keyExchangeFailed); return
            }
            gexRequest = (mn, want, mx, group)
            var w = SSHWriter(SSHMsg.gexGroup)
            w.mpint(group.prime)
            w.mpint(SSHTransport.bigEndian(group.generator))
            writePacket(w.bytes)
            expect = .gexInit
        case (.gexInit, SSHMsg.gexInit), (.dhInit, SSHMsg.kexdhInit):
            try reply(n, &r)
        default:
            fail("unexpected_message", "key exchange message \(type) out of order")
        }
    }

    private func reply(_ n: Negotiated, _ r: inout SSHReader) throws {
        guard let ks = hostKeys.blob(n.hostKey), let vc = clientVersion, let ic = clientKexInit, let isv = serverKexInit else {
            fail("kex_failed", "host key unavailable", disconnectCode: SSHDisconnect.keyExchangeFailed); return
        }
        var h = SSHWriter()
        h.string(Array(vc.utf8)); h.string(Array(persona.banner.utf8)); h.string(ic); h.string(isv); h.string(ks)
        var kEnc = SSHWriter()                      // K as it enters the hash and the key derivation
        var replyBody = SSHWriter()                 // what follows K_S in the reply
        switch n.kind {
        case .curve25519:
            let qc = try r.string(max: 64)
            guard qc.count == 32 else { fail("bad_key_exchange_value", "curve25519 public key of \(qc.count) bytes"); return }
            var pub = [UInt8](repeating: 0, count: 32), shared = [UInt8](repeating: 0, count: 32)
            guard dc_ssh_x25519(Array(qc), &pub, &shared) == 0 else { fail("bad_key_exchange_value", "curve25519 public key rejected"); return }
            h.string(qc); h.string(pub)
            kEnc.mpint(shared)
            replyBody.string(pub)
        case .ecdh(let bits):
            let qc = try r.string(max: 200)
            var pub = [UInt8](repeating: 0, count: 140), shared = [UInt8](repeating: 0, count: 70)
            var pl = 0, sl = 0
            guard dc_ssh_ecdh(Int32(bits), Array(qc), qc.count, &pub, &pl, &shared, &sl) == 0 else {
                fail("bad_key_exchange_value", "ECDH nistp\(bits) point rejected"); return
            }
            h.string(qc); h.string(pub.prefix(pl))
            kEnc.mpint(shared.prefix(sl))
            replyBody.string(pub.prefix(pl))
        case .dh, .gex:
            let e = try r.mpint(max: 1100)
            var f = [UInt8](repeating: 0, count: 1024), k = [UInt8](repeating: 0, count: 1024)
            var fl = 0, kl = 0
            let rc: Int32
            if case .dh(let bits) = n.kind {
                rc = dc_ssh_dh(Int32(bits), e, e.count, &f, &fl, &k, &kl)
            } else if let g = gexRequest {
                rc = dc_ssh_dh_group(g.group.prime, g.group.prime.count, g.group.generator, e, e.count, &f, &fl, &k, &kl)
                h.u32(g.min); h.u32(g.n); h.u32(g.max); h.mpint(g.group.prime); h.mpint(SSHTransport.bigEndian(g.group.generator))
            } else {
                rc = -1
            }
            guard rc == 0 else { fail("bad_key_exchange_value", "DH e out of range"); return }
            h.mpint(e); h.mpint(f.prefix(fl))
            kEnc.mpint(k.prefix(kl))
            replyBody.mpint(f.prefix(fl))
        case .sntrup:
            let qc = Array(try r.string(max: 2048))
            guard qc.count == 1158 + 32 else { fail("bad_key_exchange_value", "sntrup761x25519 client value of \(qc.count) bytes"); return }
            var ct = [UInt8](repeating: 0, count: 1039), ss = [UInt8](repeating: 0, count: 32)
            var pub = [UInt8](repeating: 0, count: 32), shared = [UInt8](repeating: 0, count: 32)
            guard dc_sntrup761_enc(Array(qc.prefix(1158)), &ct, &ss) == 0,
                  dc_ssh_x25519(Array(qc.suffix(32)), &pub, &shared) == 0 else { fail("bad_key_exchange_value", "sntrup761x25519 client value rejected"); return }
            var digest = [UInt8](repeating: 0, count: 64)
            _ = dc_ssh_digest(512, ss + shared, 64, &digest)
            let qs = ct + pub
            h.string(qc); h.string(qs)
            kEnc.string(digest)
            replyBody.string(qs)
        }
        guard r.atEnd else { throw SSHWireError("\(r.remaining) trailing bytes") }
        h.raw(kEnc.bytes)
        let hash = digest(n.hashAlg, h.bytes)
        if sessionID == nil { sessionID = hash }
        guard let sig = hostKeys.sign(n.hostKey, hash) else { fail("kex_failed", "host key signature failed", disconnectCode: SSHDisconnect.keyExchangeFailed); return }
        var isGex = false
        if case .gex = n.kind { isGex = true }
        var w = SSHWriter(isGex ? SSHMsg.gexReply : SSHMsg.kexdhReply)
        w.string(ks)
        w.raw(replyBody.bytes)
        w.string(sig)
        writePacket(w.bytes)
        writePacket([SSHMsg.newkeys])
        guard installKeys(n, k: kEnc.bytes, h: hash) else { fail("kex_failed", "cipher setup failed", disconnectCode: SSHDisconnect.keyExchangeFailed); return }
        if strict { sendSeq = 0 }
        expect = .newkeys
        if clientExtInfo && firstKex {
            var x = SSHWriter(SSHMsg.extInfo)
            x.u32(2)
            x.string("server-sig-algs"); x.string(persona.serverSigAlgs)
            x.string("publickey-hostbound@openssh.com"); x.string("0")
            writePacket(x.bytes)
        }
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        Array([UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)].drop { $0 == 0 })
    }

    private func digest(_ alg: Int32, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let n = dc_ssh_digest(alg, data, data.count, &out)
        return Array(out.prefix(Int(max(n, 0))))
    }

    /// RFC 4253 §7.2: HASH(K || H || letter || session_id), extended by HASH(K || H || K1 || ...).
    private func derive(_ k: [UInt8], _ h: [UInt8], _ letter: UInt8, _ need: Int, _ alg: Int32) -> [UInt8] {
        guard need > 0, let sid = sessionID else { return [] }
        var out = digest(alg, k + h + [letter] + sid)
        while out.count < need { out += digest(alg, k + h + out) }
        return Array(out.prefix(need))
    }

    private func installKeys(_ n: Negotiated, k: [UInt8], h: [UInt8]) -> Bool {
        func make(_ enc: String, _ mac: String, encrypt: Bool, iv: UInt8, key: UInt8, macKey: UInt8) -> OpaquePointer? {
            var kl: Int32 = 0, il: Int32 = 0, ml: Int32 = 0, aead: Int32 = 0
            guard dc_ssh_cipher_info(enc, mac, &kl, &il, &ml, &aead) == 0 else { return nil }
            let ivb = derive(k, h, iv, Int(il), n.hashAlg), kb = derive(k, h, key, Int(kl), n.hashAlg), mb = derive(k, h, macKey, Int(ml), n.hashAlg)
            return dc_ssh_cipher_new(enc, mac, encrypt ? 1 : 0, kb, ivb.isEmpty ? [0] : ivb, mb.isEmpty ? [0] : mb)
        }
        guard let s = make(n.encS2C, n.macS2C, encrypt: true, iv: 0x42, key: 0x44, macKey: 0x46),
              let r = make(n.encC2S, n.macC2S, encrypt: false, iv: 0x41, key: 0x43, macKey: 0x45) else { return false }
        dc_ssh_cipher_free(sendCipher)
        sendCipher = s
        dc_ssh_cipher_free(nextRecvCipher)
        nextRecvCipher = r
        return true
    }

    /// zlib@openssh.com starts after authentication (both directions), once per connection.
    func authenticated() {
        guard let n = negotiated else { return }
        if n.compS2C == "zlib@openssh.com", sendZ == nil { sendZ = dc_ssh_z_new(1) }
        if n.compC2S == "zlib@openssh.com", recvZ == nil { recvZ = dc_ssh_z_new(0) }
    }

    // MARK: output

    /// A service-layer payload; held back while a re-key is in progress.
    func send(_ payload: [UInt8], after delay: Double = 0) {
        guard phase == .packets else { return }
        if kexInProgress { queued.append(payload); return }
        writePacket(payload, after: delay)
    }

    private func writePacket(_ payload: [UInt8], after delay: Double = 0) {
        var body = payload
        if let z = sendZ {
            var out = [UInt8](repeating: 0, count: payload.count + payload.count / 8 + 1024)
            let n = payload.withUnsafeBufferPointer { p in dc_ssh_z_run(z, p.baseAddress, p.count, &out, out.count) }
            guard n >= 0 else { phase = .closed; io.close(); return }
            body = Array(out.prefix(Int(n)))
        }
        var wire = [UInt8](repeating: 0, count: dc_ssh_seal_bound(body.count))
        let n = dc_ssh_seal(sendCipher, sendSeq, body, body.count, &wire, wire.count)
        guard n > 0 else { phase = .closed; io.close(); return }
        sendSeq &+= 1
        io.send(Array(wire.prefix(n)), after: delay)
    }

    /// Sends DISCONNECT (when past the identification) and closes.
    func disconnect(_ code: UInt32, _ text: String, after delay: Double = 0) {
        guard phase != .closed else { return }
        if phase == .packets {
            var w = SSHWriter(SSHMsg.disconnect)
            w.u32(code); w.string(text); w.string("")
            writePacket(w.bytes, after: delay)
        }
        let wrote = phase == .packets
        phase = .closed
        io.close(after: wrote ? 0 : delay)
    }

    /// A protocol violation: anomaly event, then the connection closes as sshd closes it. sshd sends a
    /// DISCONNECT only for a strict-KEX violation (measured against Debian 12's sshd: a bad length, MAC,
    /// padding, curve point, truncated message or failed negotiation closes without a word).
    func fail(_ kind: String, _ detail: String, disconnect sendDisconnect: Bool = true, disconnectCode: UInt32 = SSHDisconnect.protocolError) {
        guard phase != .closed else { return }
        io.emit(info.event(SSHEvents.anomaly, [("kind", kind), ("detail", String(detail.prefix(512)))]))
        if sendDisconnect && phase == .packets && kind == "strict_kex_violation" {
            var w = SSHWriter(SSHMsg.disconnect)
            w.u32(disconnectCode); w.string(detail); w.string("")
            writePacket(w.bytes)
        }
        phase = .closed
        io.close()
    }
}
