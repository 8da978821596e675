// ParserBenchmarks.swift: ns per record for the C parsers and the Swift fingerprint computations,
// on real messages taken from the shared corpus (tls-alpn-h2.pcap, ssh-scp-1050.pcap, latest.pcapng).
import Benchmark
import CPacket
import Fingerprint
import Foundation

/// TCP payloads of a corpus capture (the corpus sits beside the repository, as in the tests).
func payloads(_ name: String) -> [[UInt8]] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let path = root.appendingPathComponent("shared/corpus/pcap/\(name)").path
    var err = CP_CAP_OK
    var msg = [CChar](repeating: 0, count: 256)
    guard let cap = cp_capture_open_file(path, &err, &msg, msg.count) else { fatalError("cannot open \(path)") }
    defer { cp_capture_close(cap) }
    var out: [[UInt8]] = []
    var h = cp_pkthdr()
    var data: UnsafePointer<UInt8>? = nil
    while cp_capture_next(cap, &h, &data) == 1 {
        var p = cp_pkt()
        if cp_decode(data, h.caplen, h.linktype, &p) == 1, p.has_l4 == 1, p.proto == 6, p.payload_len > 0 {
            out.append(Array(UnsafeBufferPointer(start: p.payload, count: Int(p.payload_len))))
        }
    }
    return out
}

let helloMessage: [UInt8] = {
    let seg = payloads("tls-alpn-h2.pcap").first { $0.first == 0x16 && $0[5] == 1 }!
    return Array(seg[5...])
}()
let kexinitPacket: [UInt8] = payloads("ssh-scp-1050.pcap").first { $0.count > 5 && $0[5] == 20 }!
let httpRequest: [UInt8] = payloads("latest.pcapng").first { $0.starts(with: Array("GET ".utf8)) }!

/// A record-payload-sized buffer, as the engine gives each parser (one per benchmark).
func withScratch<T>(_ body: (UnsafeMutableBufferPointer<UInt8>) -> T) -> T {
    let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Int(CP_PAYLOAD_MAX))
    defer { b.deallocate() }
    return body(b)
}

func parseHello() -> TLSHello {
    withScratch { b -> TLSHello in
        var o = cp_out(buf: b.baseAddress, cap: b.count, len: MemoryLayout<cp_tls_hello_rec>.size, full: 0)
        var h = cp_tls_hello_rec()
        var a: UInt64 = 0
        _ = helloMessage.withUnsafeBufferPointer { cp_tls_client_hello($0.baseAddress, $0.count, 0, &h, &o, &a) }
        withUnsafeBytes(of: h) { UnsafeMutableRawBufferPointer(b).copyMemory(from: $0) }
        var rec = cp_record()
        rec.kind = UInt16(CP_REC_TLS_CLIENT_HELLO.rawValue)
        rec.payload_len = UInt32(o.len)
        // build a record in a slot-shaped buffer to go through the real Swift boundary decode
        let slot = UnsafeMutableRawPointer.allocate(byteCount: Int(CP_SLOT_SIZE), alignment: 64)
        defer { slot.deallocate() }
        slot.storeBytes(of: rec, as: cp_record.self)
        (slot + MemoryLayout<cp_record>.size).copyMemory(from: b.baseAddress!, byteCount: o.len)
        let r = PacketRecord(decoding: slot.assumingMemoryBound(to: cp_record.self))
        if case .clientHello(let hello) = r.body { return hello }
        fatalError("not a hello")
    }
}

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo,
                                         maxDuration: .seconds(2))

    Benchmark("C tls_client_hello (Chrome, 517 B)", configuration: config) { benchmark in
        withScratch { b in
            helloMessage.withUnsafeBufferPointer { m in
                for _ in benchmark.scaledIterations {
                    var o = cp_out(buf: b.baseAddress, cap: b.count, len: MemoryLayout<cp_tls_hello_rec>.size, full: 0)
                    var h = cp_tls_hello_rec()
                    var a: UInt64 = 0
                    blackHole(cp_tls_client_hello(m.baseAddress, m.count, 0, &h, &o, &a))
                }
            }
        }
    }

    Benchmark("C ssh_kexinit (OpenSSH)", configuration: config) { benchmark in
        withScratch { b in
            kexinitPacket.withUnsafeBufferPointer { m in
                for _ in benchmark.scaledIterations {
                    var o = cp_out(buf: b.baseAddress, cap: b.count, len: MemoryLayout<cp_kexinit_rec>.size, full: 0)
                    var k = cp_kexinit_rec()
                    var used = 0
                    var a: UInt64 = 0
                    blackHole(cp_ssh_kexinit(m.baseAddress, m.count, &k, &o, &used, &a))
                }
            }
        }
    }

    Benchmark("C http_request (browser GET)", configuration: config) { benchmark in
        withScratch { b in
            httpRequest.withUnsafeBufferPointer { m in
                for _ in benchmark.scaledIterations {
                    var o = cp_out(buf: b.baseAddress, cap: b.count, len: MemoryLayout<cp_http_rec>.size, full: 0)
                    var r = cp_http_rec()
                    var used = 0, body: UInt64 = 0, a: UInt64 = 0
                    var chunked: Int32 = 0
                    blackHole(cp_http_request(m.baseAddress, m.count, &r, &o, &used, &body, &chunked, &a))
                }
            }
        }
    }

    let hello = parseHello()
    Benchmark("Swift JA4 (+ _r, _o, _ro)", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(JA4(hello)) }
    }
    Benchmark("Swift JA3", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(JA3(hello)) }
    }
}
