// SSHWire.swift: RFC 4251 §5 data types. SSHWriter appends; SSHReader is a bounded cursor that throws
// SSHWireError on any short or oversized field, so a hostile packet becomes a protocol error, not a crash.

struct SSHWireError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

struct SSHWriter {
    var bytes: [UInt8] = []

    init(_ type: UInt8? = nil) { if let type { bytes.append(type) } }

    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func bool(_ b: Bool) { bytes.append(b ? 1 : 0) }
    mutating func u32(_ v: UInt32) { bytes += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    mutating func u64(_ v: UInt64) { u32(UInt32(v >> 32)); u32(UInt32(truncatingIfNeeded: v)) }
    mutating func string(_ b: some Collection<UInt8>) { u32(UInt32(b.count)); bytes += b }
    mutating func string(_ s: String) { string(Array(s.utf8)) }
    mutating func nameList(_ l: [String]) { string(l.joined(separator: ",")) }
    mutating func raw(_ b: some Collection<UInt8>) { bytes += b }
    /// mpint from an unsigned big-endian magnitude (RFC 4251 §5).
    mutating func mpint(_ magnitude: some Collection<UInt8>) {
        var m = Array(magnitude.drop(while: { $0 == 0 }))
        if let f = m.first, f & 0x80 != 0 { m.insert(0, at: 0) }
        string(m)
    }
}

struct SSHReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) { self.bytes = bytes; self.offset = offset }

    var remaining: Int { bytes.count - offset }
    var atEnd: Bool { offset >= bytes.count }

    mutating func byte() throws -> UInt8 {
        guard remaining >= 1 else { throw SSHWireError("short byte") }
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func bool() throws -> Bool { try byte() != 0 }
    mutating func u32() throws -> UInt32 {
        guard remaining >= 4 else { throw SSHWireError("short uint32") }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
    mutating func u64() throws -> UInt64 { UInt64(try u32()) << 32 | UInt64(try u32()) }
    /// A string of at most `max` bytes.
    mutating func string(max: Int = 262_144) throws -> ArraySlice<UInt8> {
        let n = Int(try u32())
        guard n <= max else { throw SSHWireError("string of \(n) bytes (limit \(max))") }
        guard n <= remaining else { throw SSHWireError("string of \(n) bytes past the end") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
    mutating func text(max: Int = 65_536) throws -> String { String(decoding: try string(max: max), as: UTF8.self) }
    mutating func nameList() throws -> [String] {
        let s = try text(max: 65_536)
        return s.isEmpty ? [] : s.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    /// An mpint's magnitude (a negative mpint is an error here: every SSH mpint we read is positive).
    mutating func mpint(max: Int = 1_100) throws -> [UInt8] {
        let s = try string(max: max)
        if let f = s.first, f & 0x80 != 0 { throw SSHWireError("negative mpint") }
        return Array(s.drop(while: { $0 == 0 }))
    }
    mutating func rest() -> ArraySlice<UInt8> { defer { offset = bytes.count }; return bytes[offset...] }
}

/// Message numbers (RFC 4250 §4.1, RFC 4419, RFC 8308).
enum SSHMsg {
    static let disconnect: UInt8 = 1, ignore: UInt8 = 2, unimplemented: UInt8 = 3, debug: UInt8 = 4
    static let serviceRequest: UInt8 = 5, serviceAccept: UInt8 = 6, extInfo: UInt8 = 7
    static let kexinit: UInt8 = 20, newkeys: UInt8 = 21
    static let kexdhInit: UInt8 = 30, kexdhReply: UInt8 = 31
    static let gexGroup: UInt8 = 31, gexInit: UInt8 = 32, gexReply: UInt8 = 33, gexRequest: UInt8 = 34
    static let userauthRequest: UInt8 = 50, userauthFailure: UInt8 = 51, userauthSuccess: UInt8 = 52, userauthBanner: UInt8 = 53
    static let userauthPKOK: UInt8 = 60
    static let globalRequest: UInt8 = 80, requestSuccess: UInt8 = 81, requestFailure: UInt8 = 82
    static let channelOpen: UInt8 = 90, channelOpenConfirmation: UInt8 = 91, channelOpenFailure: UInt8 = 92
    static let channelWindowAdjust: UInt8 = 93, channelData: UInt8 = 94, channelExtendedData: UInt8 = 95
    static let channelEOF: UInt8 = 96, channelClose: UInt8 = 97, channelRequest: UInt8 = 98
    static let channelSuccess: UInt8 = 99, channelFailure: UInt8 = 100
}

/// Disconnect reason codes (RFC 4250 §4.2.2).
enum SSHDisconnect {
    static let protocolError: UInt32 = 2, keyExchangeFailed: UInt32 = 3, macError: UInt32 = 5
    static let serviceNotAvailable: UInt32 = 7, byApplication: UInt32 = 11, tooManyConnections: UInt32 = 12
    static let noMoreAuthMethods: UInt32 = 14
}
