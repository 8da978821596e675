// ParserTests.swift: every C parser on real bytes from the corpus: all at once (OK), drip-fed as
// growing prefixes (NEED_MORE until complete: the parsers restart from the start of the message),
// truncated at every byte and with every byte corrupted (never a crash, never reading past the end).
import CPacket
import TestSupport
import Testing

let payloadSpace = Int(CP_PAYLOAD_MAX)

func withOut<T>(head: Int, _ body: (inout cp_out) -> T) -> T {
    var buf = [UInt8](repeating: 0, count: payloadSpace)
    return buf.withUnsafeMutableBufferPointer { b in
        var o = cp_out(buf: b.baseAddress, cap: b.count, len: head, full: 0)
        return body(&o)
    }
}

/// Calls `parse` with an exactly-sized copy of `bytes` (ASan-friendly, and no hidden slack).
func exact<T>(_ bytes: ArraySlice<UInt8>, _ parse: (UnsafePointer<UInt8>, Int) -> T) -> T {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
    defer { p.deallocate() }
    for (i, b) in bytes.enumerated() { p[i] = b }
    return parse(p, bytes.count)
}

func clientHello(_ b: ArraySlice<UInt8>) -> cp_status {
    exact(b) { p, n in
        withOut(head: MemoryLayout<cp_tls_hello_rec>.size) { o in
            var h = cp_tls_hello_rec(); var a: UInt64 = 0
            return cp_tls_client_hello(p, n, 0, &h, &o, &a)
        }
    }
}

func firstClientHello(_ pcap: String) -> [UInt8] {
    let seg = CorpusPackets.tcpPayloads(pcap).first { $0.bytes.first == 0x16 && $0.bytes.count > 9 && $0.bytes[5] == 1 }!
    let len = Int(seg.bytes[3]) << 8 | Int(seg.bytes[4])
    return Array(seg.bytes[5..<(5 + len)])
}

@Test func tlsClientHelloDripTruncateCorrupt() {
    let msg = firstClientHello("tls12.pcap")
    #expect(clientHello(msg[...]) == CP_OK)
    for k in 0..<msg.count { #expect(clientHello(msg[0..<k]) == CP_NEED_MORE) }
    var outcomes = Set<UInt32>()
    for i in 0..<msg.count {
        var m = msg
        m[i] ^= 0xff
        outcomes.insert(clientHello(m[...]).rawValue)
    }
    #expect(outcomes.contains(CP_INVALID.rawValue))
}

@Test func tlsClientHelloFieldsFromRealChrome() {
    let msg = firstClientHello("tls-alpn-h2.pcap")
    withOut(head: MemoryLayout<cp_tls_hello_rec>.size) { o in
        var h = cp_tls_hello_rec(); var a: UInt64 = 0
        let st = msg.withUnsafeBufferPointer { cp_tls_client_hello($0.baseAddress, $0.count, 0, &h, &o, &a) }
        #expect(st == CP_OK)
        #expect(h.has_alpn == 1)
        #expect(h.ciphers.len > 0 && h.ciphers.len % 2 == 0)
        #expect(a == 0)
    }
}

@Test func httpRequestDripAndTruncate() {
    let seg = CorpusPackets.tcpPayloads("http1-with-cookies.pcapng").first { $0.bytes.starts(with: Array("GET ".utf8)) }!
    let req = seg.bytes
    func parse(_ b: ArraySlice<UInt8>) -> (cp_status, Int, Int) {
        exact(b) { p, n in
            withOut(head: MemoryLayout<cp_http_rec>.size) { o in
                var r = cp_http_rec(); var used = 0; var body: UInt64 = 0; var ch: Int32 = 0; var a: UInt64 = 0
                let st = cp_http_request(p, n, &r, &o, &used, &body, &ch, &a)
                return (st, used, Int(r.n_headers))
            }
        }
    }
    let (st, used, nh) = parse(req[...])
    #expect(st == CP_OK)
    #expect(used == req.count)
    #expect(nh == 6)
    for k in 1..<req.count { #expect(parse(req[0..<k]).0 == CP_NEED_MORE) }
    // hostile: no header terminator within 16 KiB is INVALID, not an endless wait
    let junk = Array("GET / HTTP/1.1\r\nX: ".utf8) + [UInt8](repeating: 0x41, count: 17000)
    #expect(parse(junk[...]).0 == CP_INVALID)
}

@Test func sshBannerAndKexinitFromOpenSSH() {
    let segs = CorpusPackets.tcpPayloads("ssh-scp-1050.pcap")
    let client = segs.filter { $0.dport == 22 }
    let banner = client.first { $0.bytes.starts(with: Array("SSH-".utf8)) }!.bytes
    var lo = 0, ll = 0, used = 0
    var a: UInt64 = 0
    #expect(exact(banner[...]) { cp_ssh_banner($0, $1, &lo, &ll, &used, &a) } == CP_OK)
    #expect(String(decoding: banner[lo..<(lo + ll)], as: UTF8.self).hasPrefix("SSH-2.0-"))
    for k in 1..<(banner.count - 1) {
        let st = exact(banner[0..<k]) { cp_ssh_banner($0, $1, &lo, &ll, &used, &a) }
        #expect(st == CP_NEED_MORE)
    }
    let rest = used < banner.count ? Array(banner[used...]) : client.first { $0.bytes.count > 5 && $0.bytes[5] == 20 }!.bytes
    func kex(_ b: ArraySlice<UInt8>) -> cp_status {
        exact(b) { p, n in withOut(head: MemoryLayout<cp_kexinit_rec>.size) { o in
            var k = cp_kexinit_rec(); var u = 0; var an: UInt64 = 0
            return cp_ssh_kexinit(p, n, &k, &o, &u, &an)
        } }
    }
    #expect(kex(rest[...]) == CP_OK)
    for k in 0..<min(rest.count, 400) { #expect(kex(rest[0..<k]) == CP_NEED_MORE) }
    for i in 6..<min(rest.count, 300) {
        var m = rest
        m[i] = 0xff
        _ = kex(m[...])                      // must not crash; verdict depends on the byte
    }
}

@Test func captureRejectsNonCaptureAndUnknownLinkType() {
    var err = CP_CAP_OK
    var msg = [CChar](repeating: 0, count: 256)
    let text = Array("this is not a capture file\n".utf8)
    let c1 = text.withUnsafeBufferPointer { cp_capture_open_buffer($0.baseAddress, $0.count, &err, &msg, msg.count) }
    #expect(c1 == nil)
    #expect(err == CP_CAP_ERR_FORMAT)
    // classic pcap header with link type 147 (user-defined)
    var hdr: [UInt8] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0] + [UInt8](repeating: 0, count: 8) + [0xff, 0xff, 0, 0, 147, 0, 0, 0]
    let c2 = hdr.withUnsafeMutableBufferPointer { cp_capture_open_buffer($0.baseAddress, $0.count, &err, &msg, msg.count) }
    #expect(c2 == nil)
    #expect(err == CP_CAP_ERR_LINKTYPE)
    #expect(String(decoding: msg.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).contains("unsupported link type 147"))
}
