// RingTests.swift: the SPSC ring under a real second thread: every record arrives once, in order,
// untorn (sequence stamped in the header and at both ends of the payload); full ring = counted drop.
import CPacket
import Foundation
import Testing

struct RingRef: @unchecked Sendable { let p: OpaquePointer }

@Test func ringStressNoLossNoDuplicateNoTear() {
    let ring = RingRef(p: cp_ring_create(256)!)
    defer { cp_ring_destroy(ring.p) }
    let total: UInt64 = 1_000_000
    let tail = Int(CP_PAYLOAD_MAX) - 8
    let producer = Thread {
        var seq: UInt64 = 0
        while seq < total {
            guard let r = cp_ring_reserve(ring.p) else { sched_yield(); continue }
            r.pointee.ts_ns = seq
            r.pointee.flow_id = UInt32(truncatingIfNeeded: seq &* 2654435761)
            let payload = UnsafeMutableRawPointer(r.advanced(by: 1))
            payload.storeBytes(of: seq, as: UInt64.self)
            payload.storeBytes(of: ~seq, toByteOffset: tail, as: UInt64.self)
            cp_ring_commit(ring.p)
            seq += 1
        }
    }
    producer.start()
    var expected: UInt64 = 0
    var errors = 0
    while expected < total {
        guard let r = cp_ring_peek(ring.p) else { continue }
        let payload = UnsafeRawPointer(r.advanced(by: 1))
        let head = payload.loadUnaligned(as: UInt64.self)
        let end = payload.loadUnaligned(fromByteOffset: tail, as: UInt64.self)
        if r.pointee.ts_ns != expected || head != expected || end != ~expected
            || r.pointee.flow_id != UInt32(truncatingIfNeeded: expected &* 2654435761) { errors += 1 }
        cp_ring_release(ring.p)
        expected += 1
    }
    #expect(errors == 0)
    #expect(cp_ring_drops(ring.p) == 0)
    #expect(cp_ring_peek(ring.p) == nil)
}

@Test func fullRingRefusesAndCountsDrops() {
    let ring = cp_ring_create(8)!
    defer { cp_ring_destroy(ring) }
    for _ in 0..<8 { #expect(cp_ring_reserve(ring) != nil); cp_ring_commit(ring) }
    #expect(cp_ring_reserve(ring) == nil)
    cp_ring_drop(ring)
    #expect(cp_ring_drops(ring) == 1)
    #expect(cp_ring_peek(ring) != nil)
    cp_ring_release(ring)
    #expect(cp_ring_reserve(ring) != nil)
}

@Test func ringRejectsBadSizes() {
    #expect(cp_ring_create(0) == nil)
    #expect(cp_ring_create(3) == nil)
    #expect(cp_ring_create(100) == nil)
}

@Test func ringBlockingHandoffLosesNothing() {
    // Both sides sleep on futexes (small ring, so each side blocks often); every record must arrive.
    let ring = RingRef(p: cp_ring_create(64)!)
    defer { cp_ring_destroy(ring.p) }
    let total: UInt64 = 300_000
    let producer = Thread {
        var seq: UInt64 = 0
        while seq < total {
            guard let r = cp_ring_reserve(ring.p) else { cp_ring_wait_writable(ring.p, 10_000); continue }
            r.pointee.ts_ns = seq
            cp_ring_commit(ring.p)
            seq += 1
        }
    }
    producer.start()
    var expected: UInt64 = 0
    var errors = 0
    while expected < total {
        guard let r = cp_ring_peek(ring.p) else { cp_ring_wait_readable(ring.p, 1_000); continue }
        if r.pointee.ts_ns != expected { errors += 1 }
        cp_ring_release(ring.p)
        expected += 1
    }
    #expect(errors == 0)
    #expect(expected == total)
}
