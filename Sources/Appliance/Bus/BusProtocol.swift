// Wire format of the host-local bus, byte-compatible with the original (spec §1.2):
//   header line `VERB[ SP args]\n` (≤ 4096 bytes incl. LF, CR before LF tolerated, ASCII only)
//   4-byte big-endian body length (≤ 1 MiB)
//   body: empty or one UTF-8 JSON object.

public enum BusVerb: String, Sendable, CaseIterable {
    case hello = "HELLO", pub = "PUB", sub = "SUB", unsub = "UNSUB", evt = "EVT", bye = "BYE"
}

public enum BusLimits {
    public static let maxHeaderBytes = 4096
    public static let maxBodyBytes = 1 << 20
    /// Per-connection (broker) and per-subscription (client) queue: drop-oldest past this many events.
    public static let queueDepth = 1024
}

public enum BusProtocolError: Error, Equatable, CustomStringConvertible {
    case headerTooLong
    case emptyHeader
    case nonASCIIHeader
    case unknownVerb(String)
    case bodyTooLarge(Int)
    case badBody(String)
    case missingArgument(BusVerb)
    case unexpectedVerb(BusVerb)
    case eofMidFrame

    public var description: String {
        switch self {
        case .headerTooLong: return "header exceeds \(BusLimits.maxHeaderBytes) bytes"
        case .emptyHeader: return "empty header line"
        case .nonASCIIHeader: return "header is not ASCII"
        case .unknownVerb(let v): return "unknown verb \(v.debugDescription)"
        case .bodyTooLarge(let n): return "body length \(n) exceeds \(BusLimits.maxBodyBytes)"
        case .badBody(let why): return "body is not a JSON object: \(why)"
        case .missingArgument(let v): return "\(v.rawValue) requires an argument"
        case .unexpectedVerb(let v): return "unexpected verb \(v.rawValue)"
        case .eofMidFrame: return "connection closed mid-frame"
        }
    }
}

/// One decoded frame. `body` is the raw body (validated JSON object or empty).
public struct BusFrame: Sendable, Equatable {
    public var verb: BusVerb
    public var args: String
    public var body: [UInt8]

    public init(verb: BusVerb, args: String = "", body: [UInt8] = []) {
        self.verb = verb
        self.args = args
        self.body = body
    }
}

/// Incremental frame parser over a byte buffer the caller appends to. `next` returns nil when more bytes
/// are needed; a malformed frame throws (the caller drops the connection).
public struct BusFrameParser: Sendable {
    /// Where the parser is, so a header scan resumes without rescanning.
    public enum Stage: Sendable, Equatable {
        case header(scanned: Int)
        case length(verb: BusVerb, args: String, headerLength: Int)
    }

    public init() {}

    /// A frame located in a buffer, body not copied.
    public struct Located: Sendable {
        public var verb: BusVerb
        public var args: String
        public var body: Range<Int>
        public var consumed: Int { body.upperBound }
    }

    /// Parses one frame from the start of `bytes`, copying its body.
    public static func parse(_ bytes: UnsafeRawBufferPointer, scanned: inout Int)
        throws(BusProtocolError) -> (frame: BusFrame, consumed: Int)? {
        guard let f = try locate(bytes, scanned: &scanned) else { return nil }
        return (BusFrame(verb: f.verb, args: f.args, body: Array(UnsafeRawBufferPointer(rebasing: bytes[f.body]))), f.consumed)
    }

    /// Finds one frame at the start of `bytes` without copying its body. Nil = need more bytes.
    /// `scanned` carries header progress between calls (pass back what you got; reset to 0 after a frame).
    public static func locate(_ bytes: UnsafeRawBufferPointer, scanned: inout Int)
        throws(BusProtocolError) -> Located? {
        // Header.
        var lf = -1
        var i = scanned
        let limit = min(bytes.count, BusLimits.maxHeaderBytes)
        while i < limit {
            if bytes[i] == 0x0A { lf = i; break }
            i += 1
        }
        if lf < 0 {
            if bytes.count >= BusLimits.maxHeaderBytes { throw .headerTooLong }
            scanned = i
            return nil
        }
        var end = lf
        if end > 0 && bytes[end - 1] == 0x0D { end -= 1 }
        if end == 0 { throw .emptyHeader }
        var space = -1
        for k in 0..<end {
            let b = bytes[k]
            if b >= 0x80 { throw .nonASCIIHeader }
            if space < 0 && b == 0x20 { space = k }
        }
        let verbEnd = space < 0 ? end : space
        guard let verb = BusFrameParser.verb(UnsafeRawBufferPointer(rebasing: bytes[0..<verbEnd])) else {
            throw .unknownVerb(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<min(verbEnd, 32)]), as: UTF8.self))
        }
        // Length + body.
        let lenAt = lf + 1
        guard bytes.count >= lenAt + 4 else { scanned = lf; return nil }
        let len = Int(bytes[lenAt]) << 24 | Int(bytes[lenAt + 1]) << 16 | Int(bytes[lenAt + 2]) << 8 | Int(bytes[lenAt + 3])
        if len > BusLimits.maxBodyBytes { throw .bodyTooLarge(len) }
        let bodyAt = lenAt + 4
        guard bytes.count >= bodyAt + len else { scanned = lf; return nil }
        var args = ""
        if space >= 0 {
            args = trimmedASCII(UnsafeRawBufferPointer(rebasing: bytes[(space + 1)..<end]))
        }
        scanned = 0
        return Located(verb: verb, args: args, body: bodyAt..<(bodyAt + len))
    }

    static func verb(_ b: UnsafeRawBufferPointer) -> BusVerb? {
        switch b.count {
        case 3:
            if b[0] == 0x50, b[1] == 0x55, b[2] == 0x42 { return .pub }       // PUB
            if b[0] == 0x53, b[1] == 0x55, b[2] == 0x42 { return .sub }       // SUB
            if b[0] == 0x45, b[1] == 0x56, b[2] == 0x54 { return .evt }       // EVT
            if b[0] == 0x42, b[1] == 0x59, b[2] == 0x45 { return .bye }       // BYE
            return nil
        case 5:
            return BusVerb(rawValue: String(decoding: b, as: UTF8.self)).flatMap { $0 == .hello || $0 == .unsub ? $0 : nil }
        default:
            return nil
        }
    }

    static func trimmedASCII(_ b: UnsafeRawBufferPointer) -> String {
        var lo = 0, hi = b.count
        func ws(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x0A }
        while lo < hi && ws(b[lo]) { lo += 1 }
        while hi > lo && ws(b[hi - 1]) { hi -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self)
    }
}

public enum BusFrameEncoder {
    /// Appends one frame. The header is `verb + " " + args` with trailing whitespace removed.
    public static func encode(_ verb: BusVerb, args: String = "", body: UnsafeRawBufferPointer? = nil,
                              into out: inout [UInt8]) throws(BusProtocolError) {
        let a = args.utf8
        if a.contains(0x0A) || a.contains(0x0D) { throw .badBody("args contain a line break") }
        if a.contains(where: { $0 >= 0x80 }) { throw .nonASCIIHeader }
        var header = Array(verb.rawValue.utf8)
        if !a.isEmpty {
            header.append(0x20)
            header.append(contentsOf: a)
            while let last = header.last, last == 0x20 || last == 0x09 { header.removeLast() }
        }
        header.append(0x0A)
        if header.count > BusLimits.maxHeaderBytes { throw .headerTooLong }
        let n = body?.count ?? 0
        if n > BusLimits.maxBodyBytes { throw .bodyTooLarge(n) }
        out.append(contentsOf: header)
        out.append(UInt8(truncatingIfNeeded: n >> 24))
        out.append(UInt8(truncatingIfNeeded: n >> 16))
        out.append(UInt8(truncatingIfNeeded: n >> 8))
        out.append(UInt8(truncatingIfNeeded: n))
        if let body, n > 0 { out.append(contentsOf: body) }
    }

    public static func encode(_ verb: BusVerb, args: String = "", body: [UInt8] = []) throws(BusProtocolError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(args.utf8.count + body.count + 16)
        let r: Result<Void, BusProtocolError> = body.withUnsafeBytes { raw in
            do throws(BusProtocolError) {
                try encode(verb, args: args, body: body.isEmpty ? nil : raw, into: &out)
                return .success(())
            } catch { return .failure(error) }
        }
        try r.get()
        return out
    }
}
