// VectorTests.swift: published test vectors and edge rules of each method (fingerprints.md).
import CPacket
@testable import Fingerprint
import Testing

func hello(ciphers: [UInt16], exts: [UInt16], sigs: [UInt16] = [], alpn: String? = "h2", sni: Bool = true,
           versions: [UInt16] = [], legacy: UInt16 = 0x0303, groups: [UInt16] = [], formats: [UInt8] = []) -> TLSHello {
    TLSHello(recordVersion: 0x0301, legacyVersion: legacy, cipher: 0, ciphers: ciphers, extensions: exts, groups: groups,
             ecPointFormats: formats, signatureAlgorithms: sigs, supportedVersions: versions,
             alpn: alpn.map { Array($0.utf8) }, sni: sni ? "example.com" : nil, hasSNI: sni,
             isQUIC: false, isDTLS: false, isHelloRetryRequest: false)
}

@Test func ja4SpecExample() {
    let ciphers: [UInt16] = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035]
    let exts: [UInt16] = [0x0a0a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015]
    let sigs: [UInt16] = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    let j = JA4(hello(ciphers: [0x1a1a] + ciphers, exts: exts, sigs: sigs, versions: [0x2a2a, 0x0304, 0x0303]))
    #expect(j.hash == "t13d1516h2_8daaf6152771_e5627efa2ab1")
    #expect(j.cipherList == "002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9")
}

@Test func ja4AlpnMarkers() {
    #expect(JA4Marker.alpn(Array("h2".utf8)) == "h2")
    #expect(JA4Marker.alpn(Array("http/1.1".utf8)) == "h1")
    #expect(JA4Marker.alpn(Array("h".utf8)) == "hh")
    #expect(JA4Marker.alpn([0xBA, 0xAD]) == "bd")
    #expect(JA4Marker.alpn([0x30, 0xAB]) == "3b")
    #expect(JA4Marker.alpn(nil) == "00")
    #expect(JA4Marker.count2(150) == "99")
}

@Test func ja4EmptyListsAreZeros() {
    let j = JA4(hello(ciphers: [], exts: [], alpn: nil, sni: false))
    #expect(j.hash == "t12i000000_000000000000_000000000000")
}

@Test func ja3UpstreamExamples() {
    let h = hello(ciphers: [4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99], exts: [], alpn: nil, sni: false, legacy: 0x0301)
    let j = JA3(h)
    #expect(j.full == "769,4-5-10-9-100-98-3-6-19-18-99,,,")
    #expect(j.hash == "de350869b8c85de67a350c8d186f11e6")
    let h2 = hello(ciphers: [47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4], exts: [0, 10, 11], alpn: nil,
                   legacy: 0x0301, groups: [23, 24, 25], formats: [0])
    #expect(JA3(h2).hash == "ada70206e40642a3e4461f35503241d5")
}

@Test func hassh() {
    let k = KexInit(lists: ["curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes256-ctr", "hmac-sha2-256", "hmac-sha1",
                            "none", "zlib", "", ""])
    let h = HASSH(client: k)
    #expect(h.algorithms == "curve25519-sha256;aes128-ctr;hmac-sha2-256;none")
    #expect(h.hash == Digest.md5Hex(h.algorithms))
    #expect(HASSH(server: k).algorithms == "curve25519-sha256;aes256-ctr;hmac-sha1;zlib")
}

@Test func ipv6Compression() {
    func v6(_ g: [UInt16]) -> String { IPAddress(version: 6, bytes: g.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }).description }
    #expect(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]) == "2001:db8::1")
    #expect(v6([0, 0, 0, 0, 0, 0, 0, 1]) == "::1")
    #expect(v6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]) == "2001:db8:0:1::1")
    #expect(v6([1, 0, 0, 1, 0, 0, 0, 1]) == "1:0:0:1::1")
}

func syn(window: UInt16, opts: [UInt8], ttl: UInt8 = 64, df: Bool = true, ipid: UInt16 = 1, flags: UInt16 = 0x002,
         ack: UInt32 = 0) -> TCPSynFacts {
    TCPSynFacts(window: window, urgentPointer: 0, seq: 1, ack: ack, flags: flags, ipID: ipid, ttl: ttl, ipHeaderLength: 20,
                tos: 0, ipv4Flags: df ? 2 : 0, flowLabel: 0, payloadLength: 0, options: opts, tunnelled: false)
}

@Test func p0fRawSignatures() {
    // Windows 10 style SYN: mss 1460, nop, ws 8, nop, nop, sok
    let s = syn(window: 64240, opts: [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2], ttl: 128)
    #expect(TCPSignature(s, ipVersion: 4).raw == "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0")
    // EOL padding: macOS-like tail "sok, eol, eol" -> eol+1
    let m = syn(window: 65535, opts: [2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 4, 2, 0, 0], ttl: 61)
    #expect(TCPSignature(m, ipVersion: 4).raw == "4:61+3:0:1460:65535,6:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0")
    // truncated option -> bad
    #expect(TCPSignature(syn(window: 1024, opts: [2, 4, 5]), ipVersion: 4).quirks.contains("bad"))
}

#if JA4Plus
@Test func ja4xVector() {
    let x = X509OIDs(index: 0, issuer: [], subject: [], extensions: [[0x55, 0x1d, 0x0f], [0x55, 0x1d, 0x25], [0x55, 0x1d, 0x11]])
    #expect(JA4X(x).hash == "000000000000_000000000000_aae71e8db6d7")
}

@Test func ja4tForms() {
    let s = syn(window: 64240, opts: [2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7])
    #expect(JA4T(s).value == "64240_2-1-1-4-1-3_1460_7")
    let none = syn(window: 8192, opts: [])
    #expect(JA4T(none).value == "8192__0_0")
    #expect(JA4T(none).pluginValue == "8192_00_00_00")
}

@Test func ja4hCookiesAndLanguage() {
    let h = JA4H(method: "GET", version: "HTTP/1.1", headers: [
        ("Host", "x"), ("Cookie", "yummy_cookie=choco; tasty_cookie=strawberry"), ("Referer", "r"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ])
    #expect(h.a == "ge11cr02enus")
    #expect(h.raw == "ge11cr02enus_Host,Accept-Language_tasty_cookie,yummy_cookie_tasty_cookie=strawberry,yummy_cookie=choco")
    #expect(JA4H.languageCode("da, en-GB") == "da00")
    #expect(JA4H(method: "M-SEARCH", version: "HTTP/1.1", headers: []).a == "ms11nn000000")
}

@Test func ja4sshWindowsAndModeTies() {
    var s = JA4SSH(windowSize: 4)
    s.add(payloadLength: 36, isSSH: true, flags: 0x18, fromClient: true)
    s.add(payloadLength: 0, isSSH: false, flags: 0x10, fromClient: false)
    s.add(payloadLength: 48, isSSH: true, flags: 0x18, fromClient: false)
    s.add(payloadLength: 700, isSSH: false, flags: 0x10, fromClient: false)   // PDU continuation: counts as ACK
    s.add(payloadLength: 20, isSSH: true, flags: 0x18, fromClient: false)
    s.add(payloadLength: 36, isSSH: true, flags: 0x18, fromClient: true)     // 4th SSH packet closes the window
    s.add(payloadLength: 52, isSSH: true, flags: 0x18, fromClient: true)     // partial window
    #expect(s.finish() == ["c36s20_c2s2_c0s2", "c52s0_c1s0_c0s0"])
}
#endif
