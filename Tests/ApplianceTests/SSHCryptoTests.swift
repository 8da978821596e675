// SSHCryptoTests.swift: the SSH decoy's C crypto against outside references and against itself.
// UMAC: RFC 4418 Appendix test vectors (UMAC-64; UMAC-128's first 12 bytes are UMAC-96's). Packet
// protection: every cipher/MAC pair the personas advertise seals and opens, whole and drip-fed, and a
// flipped bit anywhere is a MAC error. Interoperability with OpenSSH's client is Tests/Integration/ssh_decoy.sh.
import CDecoyCrypto
import Testing

private func hex(_ b: some Collection<UInt8>) -> String { b.map { String(format2($0)) }.joined() }
private func format2(_ v: UInt8) -> String { let d = Array("0123456789ABCDEF"); return String([d[Int(v >> 4)], d[Int(v & 15)]]) }

private func umac(_ msg: [UInt8], _ taglen: Int) -> String {
    let key = Array("abcdefghijklmnop".utf8), nonce = Array("bcdefghi".utf8)
    let u = dc_umac_new(key, Int32(taglen))!
    defer { dc_umac_free(u) }
    var tag = [UInt8](repeating: 0, count: 16)
    _ = dc_umac_tag(u, msg, msg.count, nonce, &tag)
    return hex(tag.prefix(taglen))
}

@Test func umacMatchesRFC4418Vectors() {
    let a = { (n: Int) in [UInt8](repeating: UInt8(ascii: "a"), count: n) }
    let abc = { (n: Int) in (0..<n).flatMap { _ in Array("abc".utf8) } }
    // (message, UMAC-64, UMAC-96) from RFC 4418 Appendix
    let vectors: [([UInt8], String, String)] = [
        ([], "6E155FAD26900BE1", "32FEDB100C79AD58F07FF764"),
        (a(3), "44B5CB542F220104", "185E4FE905CBA7BD85E4C2DC"),
        (a(1 << 10), "26BF2F5D60118BD9", "7A54ABE04AF82D60FB298C3C"),
        (a(1 << 15), "27F8EF643B0D118D", "7B136BD911E4B734286EF2BE"),
        (a(1 << 20), "A4477E87E9F55853", "F8ACFA3AC31CFEEA047F7B11"),
        (abc(1), "D4D7B9F6BD4FBFCF", "883C3D4B97A61976FFCF2323"),
        (abc(500), "D4CF26DDEFD5C01A", "8824A260C53C66A36C9260A6"),
    ]
    for (m, u64, u96) in vectors {
        #expect(umac(m, 8) == u64, "UMAC-64 of \(m.count) bytes")
        #expect(umac(m, 16).hasPrefix(u96), "UMAC-128 of \(m.count) bytes")
    }
}

private let modes: [(String, String)] = [
    ("chacha20-poly1305@openssh.com", ""), ("aes128-gcm@openssh.com", ""), ("aes256-gcm@openssh.com", ""),
] + ["aes128-ctr", "aes192-ctr", "aes256-ctr"].flatMap { c in
    ["umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
     "hmac-sha1-etm@openssh.com", "umac-64@openssh.com", "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1"].map { (c, $0) }
}

private func pair(_ enc: String, _ mac: String) -> (OpaquePointer, OpaquePointer) {
    var kl: Int32 = 0, il: Int32 = 0, ml: Int32 = 0, aead: Int32 = 0
    #expect(dc_ssh_cipher_info(enc, mac, &kl, &il, &ml, &aead) == 0)
    let key = (0..<Int(kl)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let iv = (0..<max(1, Int(il))).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    let mk = (0..<max(1, Int(ml))).map { UInt8(truncatingIfNeeded: $0 &* 17) }
    return (dc_ssh_cipher_new(enc, mac, 1, key, iv, mk)!, dc_ssh_cipher_new(enc, mac, 0, key, iv, mk)!)
}

@Test func everyAdvertisedCipherAndMACRoundTrips() {
    var out = [UInt8](repeating: 0, count: Int(DC_SSH_MAX_PACKET) + 64)
    for (enc, mac) in modes {
        let (s, r) = pair(enc, mac)
        defer { dc_ssh_cipher_free(s); dc_ssh_cipher_free(r) }
        var wire: [UInt8] = []
        let payloads: [[UInt8]] = [[21], Array(repeating: 0x5a, count: 1), (0..<1000).map { UInt8(truncatingIfNeeded: $0) }, Array(repeating: 7, count: 40_000)]
        for (seq, p) in payloads.enumerated() {
            var w = [UInt8](repeating: 0, count: dc_ssh_seal_bound(p.count))
            let n = dc_ssh_seal(s, UInt32(seq), p, p.count, &w, w.count)
            #expect(n > 0, "\(enc) \(mac) seal")
            wire += w.prefix(n)
        }
        // all packets in one buffer, then one byte at a time for the first: NEED_MORE until whole
        var off = 0
        for (seq, p) in payloads.enumerated() {
            var consumed = 0, plen = 0
            if seq == 0 {
                for k in 1..<6 {
                    #expect(dc_ssh_open(r, 0, Array(wire[0..<k]), k, &out, out.count, &consumed, &plen) == Int32(DC_SSH_NEED_MORE))
                }
            }
            let rc = wire.withUnsafeBufferPointer { b in dc_ssh_open(r, UInt32(seq), b.baseAddress! + off, wire.count - off, &out, out.count, &consumed, &plen) }
            #expect(rc == Int32(DC_SSH_OK) && Array(out.prefix(plen)) == p, "\(enc) \(mac) packet \(seq)")
            off += consumed
        }
        #expect(off == wire.count)
    }
    // A buffer too small for the packet: TOO_BIG with the room needed, and the same call succeeds with it.
    for (enc, mac) in modes {
        let (s, r) = pair(enc, mac)
        let p = [UInt8](repeating: 0x42, count: 5000)
        var w = [UInt8](repeating: 0, count: dc_ssh_seal_bound(p.count))
        let n = dc_ssh_seal(s, 9, p, p.count, &w, w.count)
        var small = [UInt8](repeating: 0, count: 1000), consumed = 0, need = 0
        #expect(dc_ssh_open(r, 9, w, n, &small, small.count, &consumed, &need) == Int32(DC_SSH_TOO_BIG) && need > 5000)
        var big = [UInt8](repeating: 0, count: need), plen = 0
        #expect(dc_ssh_open(r, 9, w, n, &big, big.count, &consumed, &plen) == Int32(DC_SSH_OK) && Array(big.prefix(plen)) == p, "\(enc) \(mac) after growing")
        dc_ssh_cipher_free(s); dc_ssh_cipher_free(r)
    }
}

@Test func aFlippedBitIsAMACErrorAndBadLengthsAreRefused() {
    var out = [UInt8](repeating: 0, count: Int(DC_SSH_MAX_PACKET) + 64)
    for (enc, mac) in modes {
        let p: [UInt8] = Array("SSH_MSG_SERVICE_REQUEST ssh-userauth".utf8)
        for bit in [0, 7, 40, 100, 200] {
            let (s, r) = pair(enc, mac)
            var w = [UInt8](repeating: 0, count: dc_ssh_seal_bound(p.count))
            let n = dc_ssh_seal(s, 3, p, p.count, &w, w.count)
            guard bit / 8 < n else { dc_ssh_cipher_free(s); dc_ssh_cipher_free(r); continue }
            w[bit / 8] ^= UInt8(1 << (bit % 8))
            var consumed = 0, plen = 0
            let rc = dc_ssh_open(r, 3, w, n, &out, out.count, &consumed, &plen)
            // a flipped length bit may also read as "more to come"; past the length it is always an error
            #expect(bit < 32 ? rc != Int32(DC_SSH_OK) : rc < 0, "\(enc) \(mac): bit \(bit) flipped, got \(rc)")
            dc_ssh_cipher_free(s); dc_ssh_cipher_free(r)
        }
    }
    var consumed = 0, plen = 0
    for bad: [UInt8] in [[0xff, 0xff, 0xff, 0xf0, 4], [0, 0, 0, 2, 0, 0], [0, 0, 0, 13, 4] + Array(repeating: 0, count: 13), [0, 0, 0, 12, 200] + Array(repeating: 0, count: 11)] {
        #expect(dc_ssh_open(nil, 0, bad, bad.count, &out, out.count, &consumed, &plen) < 0)
    }
}

@Test func keyExchangeRejectsBadPeerValues() {
    var pub = [UInt8](repeating: 0, count: 140), shared = [UInt8](repeating: 0, count: 140)
    #expect(dc_ssh_x25519([UInt8](repeating: 0, count: 32), &pub, &shared) == -1, "low-order point")
    var pl = 0, sl = 0
    #expect(dc_ssh_ecdh(256, [4] + [UInt8](repeating: 1, count: 64), 65, &pub, &pl, &shared, &sl) == -1, "point not on the curve")
    var f = [UInt8](repeating: 0, count: 1024), k = [UInt8](repeating: 0, count: 1024), fl = 0, kl = 0
    #expect(dc_ssh_dh(2048, [1], 1, &f, &fl, &k, &kl) == -1, "e = 1")
    var p = [UInt8](repeating: 0, count: 256)
    #expect(dc_ssh_dh_prime(2048, &p, p.count) == 256)
    var pm1 = p; pm1[255] -= 1
    #expect(dc_ssh_dh(2048, pm1, 256, &f, &fl, &k, &kl) == -1, "e = p - 1")
    #expect(dc_ssh_dh(2048, [2], 1, &f, &fl, &k, &kl) == 0 && fl > 200 && kl > 200)
    // two X25519 parties agree
    var a = [UInt8](repeating: 0, count: 32), sa = [UInt8](repeating: 0, count: 32), b = [UInt8](repeating: 0, count: 32), sb = [UInt8](repeating: 0, count: 32)
    var base = [UInt8](repeating: 0, count: 32); base[0] = 9
    #expect(dc_ssh_x25519(base, &a, &sa) == 0)
    #expect(dc_ssh_x25519(a, &b, &sb) == 0)
    #expect(sb != [UInt8](repeating: 0, count: 32))
}
