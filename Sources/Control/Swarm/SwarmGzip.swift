// SwarmGzip.swift: gzip bodies for shipped event batches (CDecnetSystem's zlib calls; see cs_gzip.h for why not
// swift-nio-extras). A batch of 2,000 events is ~1.1 MB of JSON and ~10x smaller compressed (swarm.sh prints it:
// 1,088,378 -> 101,837 bytes on its synthetic batches).
import CDecnetSystem

public enum SwarmGzip {
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: bytes.count + bytes.count / 100 + 64)
        let n = bytes.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in cs_gzip(i.baseAddress, i.count, o.baseAddress, o.count, level) }
        }
        guard n >= 0 else { return nil }
        out.removeSubrange(Int(n)...)
        return out
    }

    public enum InflateError: Error { case malformed, tooLarge }

    /// Inflates at most `limit` bytes: a hostile body cannot expand past it.
    public static func inflate(_ bytes: some Collection<UInt8>, limit: Int) throws(InflateError) -> [UInt8] {
        let input = Array(bytes)
        var out = [UInt8](repeating: 0, count: limit)
        let n = input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in cs_gunzip(i.baseAddress, i.count, o.baseAddress, o.count) }
        }
        if n == -2 { throw .tooLarge }
        guard n >= 0 else { throw .malformed }
        out.removeSubrange(Int(n)...)
        return out
    }
}
