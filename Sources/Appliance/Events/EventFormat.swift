// EventFormat.swift: an event as the original's data-plane lines (../shared/spec/decnet-reference.md §9.1)
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [relay@55555 k="v" ...]
// and as the collector's JSON record (§9.3: timestamp, decky, service, event_type, attacker_ip, fields,
// msg, raw_line), plus `ts` with the microsecond time. Both are rendered straight into bytes.
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

public enum EventFormat {
    /// `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` from nanoseconds since the epoch.
    /// `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` from nanoseconds since the epoch.
    public static func iso8601Micro(ns: UInt64) -> String {
        var out: [UInt8] = []
        appendUTCTime(ns: ns, iso: true, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Printable ASCII without spaces, truncated (RFC 5424 header fields); empty -> "-".
    static func appendHeaderField(_ s: String?, max: Int, into out: inout [UInt8]) {
        var n = 0
        for c in (s ?? "").utf8 where n < max {
            out.append(c > 0x20 && c < 0x7f ? c : UInt8(ascii: "_"))
            n += 1
        }
        if n == 0 { out.append(UInt8(ascii: "-")) }
    }

    /// One RFC 5424 line (no newline).
    public static func rfc5424(_ e: SensorEvent) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(UInt8(ascii: "<"))
        out += Array(String(16 * 8 + e.spec.severity.rawValue).utf8)
        out += Array(">1 ".utf8)
        appendUTCTime(ns: e.timestampNs, iso: true, into: &out)
        out.append(0x20)
        appendHeaderField(e.decky, max: 255, into: &out)
        out.append(0x20)
        appendHeaderField(e.spec.service, max: 48, into: &out)
        out += Array(" - ".utf8)
        appendHeaderField(e.spec.id, max: 32, into: &out)
        out.append(0x20)
        let fields = e.orderedFields
        if fields.isEmpty { out.append(UInt8(ascii: "-")); return out }
        out.append(UInt8(ascii: "["))
        out += Array(EventCatalogue.sdID.utf8)
        for (k, v) in fields {
            out.append(0x20)
            out += Array(k.utf8)
            out += Array("=\"".utf8)
            // PARAM-VALUE: \ " ] escaped by backslash (RFC 5424 §6.3.3); every control character, DEL
            // and C1 as \u00HH, so a line stays one line and a terminal showing it acts on nothing.
            ControlCharacters.append(v, escapeWithBackslash: { $0 == 0x22 || $0 == 0x5d }, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The collector's JSON record (no newline). `fields` is also returned separately for the store.
    public static func json(_ e: SensorEvent, rawLine: [UInt8]) -> (line: [UInt8], fields: [UInt8]) {
        var f: [UInt8] = [UInt8(ascii: "{")]
        for (i, (k, v)) in e.orderedFields.enumerated() {
            if i > 0 { f.append(UInt8(ascii: ",")) }
            JSON.appendString(k, to: &f)
            f.append(UInt8(ascii: ":"))
            JSON.appendString(v, to: &f)
        }
        f.append(UInt8(ascii: "}"))
        var out: [UInt8] = []
        out.reserveCapacity(f.count + rawLine.count + 256)
        out += Array("{\"timestamp\":\"".utf8)
        appendUTCTime(ns: e.timestampNs, iso: false, into: &out)
        out += Array("\",\"ts\":\"".utf8)
        appendUTCTime(ns: e.timestampNs, iso: true, into: &out)
        out += Array("\",\"decky\":".utf8)
        JSON.appendString(e.decky ?? "", to: &out)
        out += Array(",\"service\":\"".utf8)
        out += Array(e.spec.service.utf8)
        out += Array("\",\"event_type\":".utf8)
        JSON.appendString(e.spec.id, to: &out)
        out += Array(",\"attacker_ip\":".utf8)
        JSON.appendString(e.srcIP, to: &out)
        out += Array(",\"severity\":".utf8)
        out += Array(String(e.spec.severity.rawValue).utf8)
        out += Array(",\"fields\":".utf8)
        out += f
        out += Array(",\"msg\":\"\",\"raw_line\":".utf8)
        JSON.appendString(String(decoding: rawLine, as: UTF8.self), to: &out)
        out.append(UInt8(ascii: "}"))
        return (out, f)
    }
}
