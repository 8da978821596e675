// MQTTDecoy.swift: a Mosquitto broker (MQTT 3.1, 3.1.1 and 5) with a persona's live-looking topics
// (water_plant, building_hvac, solar_farm, factory_line) plus $SYS. It answers CONNECT, SUBSCRIBE (with
// the retained messages a subscriber expects: going silent after CONNACK is the tell of decoys.md §3.3),
// PUBLISH at QoS 0/1/2, UNSUBSCRIBE, PINGREQ and DISCONNECT; packets are read through a bounded cursor
// (remaining length <= 256 KiB, at most 4 length bytes, strings bounded by the packet).
// Service keys: `version` (mosquitto version), `persona`, `accept` (default any: anonymous allowed).

import Fingerprint

enum MQTTEvents {
    static let connect = DecoyEvents.spec("mqtt", "connect", ["client_id", "protocol_level", "clean_session", "keepalive", "will_topic"], credential: true)
    static let subscribe = DecoyEvents.spec("mqtt", "subscribe", ["topics"])
    static let publish = DecoyEvents.spec("mqtt", "publish", ["topic", "qos", "retain", "size", "sha256", "preview"])
    static let error = DecoyEvents.spec("mqtt", "protocol_error", ["anomaly", "packet_type"])
    static let all = [DecoyEvents.connect("mqtt"), DecoyEvents.closed("mqtt"), connect, subscribe, publish, error]
}

public final class MQTTDecoy: DecoySession {
    public static let definition = DecoyDefinition(
        slug: "mqtt", ports: [1883], events: MQTTEvents.all, idleTimeout: 90,
        persona: { "mosquitto version " + MQTTDecoy.version($0) }, make: { MQTTDecoy($0) })

    static func version(_ info: DecoySessionInfo) -> String { info.config("version") ?? (info.distro.id == "debian" ? "2.0.11" : "2.0.18") }
    static let maxPacket = 256 << 10

    static let personas: [String: [(String, String)]] = [
        "water_plant": [("plant/pump1/status", "running"), ("plant/pump2/status", "standby"), ("plant/tank1/level", "73.4"),
                        ("plant/tank2/level", "41.9"), ("plant/valve3/state", "open"), ("plant/chlorine/ppm", "1.2"),
                        ("plant/flow/inlet_lps", "118.6"), ("plant/alarm/active", "0")],
        "building_hvac": [("hvac/ahu1/supply_temp", "14.8"), ("hvac/ahu1/fan_speed", "62"), ("hvac/zone3/setpoint", "21.5"),
                          ("hvac/zone3/temp", "22.1"), ("hvac/chiller1/state", "on"), ("hvac/boiler/state", "off")],
        "solar_farm": [("solar/inverter1/power_kw", "412.7"), ("solar/inverter2/power_kw", "398.2"), ("solar/string14/voltage", "1187"),
                       ("solar/meter/export_kwh", "1849203"), ("solar/tracker/angle", "33.5")],
        "factory_line": [("line1/conveyor/speed", "0.85"), ("line1/press2/cycles", "184233"), ("line1/robot3/state", "auto"),
                         ("line1/oven/temp_c", "182.4"), ("line1/qc/reject_rate", "0.7")],
    ]

    let info: DecoySessionInfo
    let policy: CredentialPolicy
    var buf: [UInt8] = []
    var connected = false
    var level: UInt8 = 4
    var closed = false
    var subscriptions: [String] = []
    let topics: [(String, String)]

    init(_ info: DecoySessionInfo) {
        self.info = info
        policy = CredentialPolicy(info.config("accept"), default: .any)
        var rng = info.personaRandom
        let name = info.config("persona") ?? rng.pick(MQTTDecoy.personas.keys.sorted())
        let up = 86_400 * (2 + rng.below(40)) + rng.below(86_400)
        let clients = 3 + rng.below(9)
        topics = (MQTTDecoy.personas[name] ?? MQTTDecoy.personas["water_plant"]!) + [
            ("$SYS/broker/version", "mosquitto version \(MQTTDecoy.version(info))"),
            ("$SYS/broker/uptime", "\(up + Int(wallClockSeconds()) % 86_400) seconds"),
            ("$SYS/broker/clients/connected", String(clients)), ("$SYS/broker/clients/total", String(clients + 2)),
            ("$SYS/broker/messages/received", String(up / 3)), ("$SYS/broker/messages/sent", String(up / 2)),
            ("$SYS/broker/subscriptions/count", String(clients * 4)), ("$SYS/broker/retained messages/count", String(11 + clients)),
        ]
    }


    public func receive(_ bytes: [UInt8], _ io: DecoyIO) {
        guard !closed else { return }
        buf += bytes
        while !closed {
            guard buf.count >= 2 else { return }
            var len = 0, mult = 1, i = 1
            var complete = false
            while i < buf.count && i <= 4 {
                let b = Int(buf[i])
                len += (b & 0x7f) * mult
                mult *= 128
                i += 1
                if b & 0x80 == 0 { complete = true; break }
            }
            if !complete {
                if i > 4 { fail(io, "bad_remaining_length", type: buf[0] >> 4) }
                return
            }
            guard len <= MQTTDecoy.maxPacket else { fail(io, "packet_too_large", type: buf[0] >> 4); return }
            guard buf.count >= i + len else { return }
            let header = buf[0]
            let body = Array(buf[i..<(i + len)])
            buf.removeFirst(i + len)
            handle(header, body, io)
        }
    }

    func fail(_ io: DecoyIO, _ anomaly: String, type: UInt8) {
        io.emit(info.event(MQTTEvents.error, [("anomaly", anomaly), ("packet_type", String(type))]))
        io.close()
        closed = true
    }

    func handle(_ header: UInt8, _ body: [UInt8], _ io: DecoyIO) {
        let type = header >> 4
        var c = ByteCursor(body)
        if !connected && type != 1 { fail(io, "packet_before_connect", type: type); return }
        switch type {
        case 1: connect(&c, io)
        case 3:                                                                       // PUBLISH
            let qos = (header >> 1) & 3
            guard qos < 3, let topic = c.mqttString() else { fail(io, "bad_publish", type: type); return }
            var pid: [UInt8] = []
            if qos > 0 { guard let p = c.bytes(2) else { fail(io, "bad_publish", type: type); return }; pid = p }
            if level == 5 { guard c.skipProperties() else { fail(io, "bad_properties", type: type); return } }
            let payload = c.bytes(c.remaining) ?? []
            io.emit(info.event(MQTTEvents.publish, [("topic", DecoyEvents.printable(topic, max: 512)), ("qos", String(qos)),
                                                    ("retain", header & 1 != 0 ? "true" : "false"), ("size", String(payload.count)),
                                                    ("sha256", Digest.sha256Hex(bytes: payload)), ("preview", DecoyEvents.printable(payload, max: 1024))]))
            if qos == 1 { io.send([0x40, 2] + pid) }                                  // PUBACK
            if qos == 2 { io.send([0x50, 2] + pid) }                                  // PUBREC
        case 6:                                                                       // PUBREL -> PUBCOMP
            guard let pid = c.bytes(2) else { fail(io, "bad_pubrel", type: type); return }
            io.send([0x70, 2] + pid)
        case 4, 5, 7: break                                                           // acks of our QoS 0 sends: none expected
        case 8:                                                                       // SUBSCRIBE
            guard header & 0x0f == 2, let pid = c.bytes(2) else { fail(io, "bad_subscribe", type: type); return }
            if level == 5 { guard c.skipProperties() else { fail(io, "bad_properties", type: type); return } }
            var filters: [String] = [], granted: [UInt8] = []
            while c.remaining > 0, filters.count < 64 {
                guard let f = c.mqttString(), let opts = c.u8() else { fail(io, "bad_subscribe", type: type); return }
                let t = String(decoding: f, as: UTF8.self)
                filters.append(t)
                granted.append(MQTTDecoy.validFilter(t) ? min(opts & 3, 1) : 0x80)
            }
            guard !filters.isEmpty else { fail(io, "empty_subscribe", type: type); return }
            io.emit(info.event(MQTTEvents.subscribe, [("topics", filters.map { DecoyEvents.printable(Array($0.utf8), max: 256) }.joined(separator: ","))]))
            var ack = pid
            if level == 5 { ack.append(0) }
            ack += granted
            io.send([0x90] + MQTTDecoy.varint(ack.count) + ack)
            subscriptions += filters
            for (topic, value) in topics where filters.contains(where: { MQTTDecoy.matches($0, topic) }) {
                var p = MQTTDecoy.string(topic)
                if level == 5 { p.append(0) }
                p += Array(value.utf8)
                io.send([0x31] + MQTTDecoy.varint(p.count) + p)                       // PUBLISH, QoS 0, retained
            }
        case 10:                                                                      // UNSUBSCRIBE
            guard let pid = c.bytes(2) else { fail(io, "bad_unsubscribe", type: type); return }
            var n = 0
            if level == 5 { guard c.skipProperties() else { fail(io, "bad_properties", type: type); return } }
            while c.remaining > 0, c.mqttString() != nil { n += 1 }
            var ack = pid
            if level == 5 { ack += [0] + [UInt8](repeating: 0x11, count: n) }        // v5: no subscription existed / success
            io.send([0xb0] + MQTTDecoy.varint(ack.count) + ack)
        case 12: io.send([0xd0, 0])                                                   // PINGRESP
        case 14: io.close(); closed = true                                            // DISCONNECT
        default: fail(io, "unexpected_packet", type: type)
        }
    }

    func connect(_ c: inout ByteCursor, _ io: DecoyIO) {
        guard !connected else { fail(io, "second_connect", type: 1); return }
        guard let name = c.mqttString(), let lvl = c.u8(), let flags = c.u8(), let ka = c.bytes(2) else { fail(io, "bad_connect", type: 1); return }
        let proto = String(decoding: name, as: UTF8.self)
        guard (proto == "MQTT" && (lvl == 4 || lvl == 5)) || (proto == "MQIsdp" && lvl == 3) else {
            // Mosquitto answers an unknown protocol level with CONNACK 1 (3.1.1 numbering) and closes.
            io.send([0x20, 2, 0, 1]); io.close(); closed = true
            io.emit(info.event(MQTTEvents.error, [("anomaly", "unsupported_protocol \(DecoyEvents.printable(name, max: 16)) \(lvl)"), ("packet_type", "1")]))
            return
        }
        level = lvl
        if lvl == 5 { guard c.skipProperties() else { fail(io, "bad_properties", type: 1); return } }
        guard let cid = c.mqttString() else { fail(io, "bad_connect", type: 1); return }
        var willTopic = ""
        if flags & 0x04 != 0 {
            if lvl == 5 { guard c.skipProperties() else { fail(io, "bad_properties", type: 1); return } }
            guard let wt = c.mqttString(), c.mqttString() != nil else { fail(io, "bad_will", type: 1); return }
            willTopic = DecoyEvents.printable(wt, max: 256)
        }
        var user: [UInt8]?, pass: [UInt8]?
        if flags & 0x80 != 0 { user = c.mqttString(); if user == nil { fail(io, "bad_username", type: 1); return } }
        if flags & 0x40 != 0 { pass = c.mqttString(); if pass == nil { fail(io, "bad_password", type: 1); return } }
        let u = user.map { DecoyEvents.printable($0, max: 256) } ?? ""
        let ok = policy.accepts(user: u, password: pass ?? [], attempt: 1)
        var fields: [(String, String)] = [("client_id", DecoyEvents.printable(cid, max: 256)), ("protocol_level", String(lvl)),
                                          ("clean_session", flags & 0x02 != 0 ? "true" : "false"),
                                          ("keepalive", String(Int(ka[0]) << 8 | Int(ka[1]))), ("will_topic", willTopic)]
        if user != nil || pass != nil {
            fields += DecoyEvents.credential(principal: u, username: u, secret: pass ?? [], result: ok ? "success" : "failed")
        }
        io.emit(info.event(MQTTEvents.connect, fields))
        if ok {
            connected = true
            io.send(lvl == 5 ? [0x20, 3, 0, 0, 0] : [0x20, 2, 0, 0])
        } else {
            // 3.1.1: 5 not authorized (4 when a password was wrong); 5.0: 0x87 / 0x86.
            let rc: UInt8 = lvl == 5 ? (pass == nil ? 0x87 : 0x86) : (pass == nil ? 5 : 4)
            io.send(lvl == 5 ? [0x20, 3, 0, rc, 0] : [0x20, 2, 0, rc])
            io.close()
            closed = true
        }
    }

    static func string(_ s: String) -> [UInt8] { let b = Array(s.utf8); return [UInt8(b.count >> 8), UInt8(b.count & 255)] + b }

    static func varint(_ n: Int) -> [UInt8] {
        var out: [UInt8] = [], v = n
        repeat {
            var b = UInt8(v % 128)
            v /= 128
            if v > 0 { b |= 0x80 }
            out.append(b)
        } while v > 0
        return out
    }

    static func validFilter(_ f: String) -> Bool {
        guard !f.isEmpty else { return false }
        let levels = f.split(separator: "/", omittingEmptySubsequences: false)
        for (i, l) in levels.enumerated() {
            if l.contains("#") && (l != "#" || i != levels.count - 1) { return false }
            if l.contains("+") && l != "+" { return false }
        }
        return true
    }

    /// MQTT topic filter matching; wildcards at the first level never match `$` topics.
    static func matches(_ filter: String, _ topic: String) -> Bool {
        let f = filter.split(separator: "/", omittingEmptySubsequences: false)
        let t = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.hasPrefix("$") && (f.first == "#" || f.first == "+") { return false }
        for (i, level) in f.enumerated() {
            if level == "#" { return true }
            guard i < t.count else { return false }
            if level != "+" && level != t[i] { return false }
        }
        return f.count == t.count
    }
}

extension ByteCursor {
    /// MQTT UTF-8 string / binary data: 2-byte length, then the bytes.
    mutating func mqttString() -> [UInt8]? {
        guard let l = bytes(2) else { return nil }
        return bytes(Int(l[0]) << 8 | Int(l[1]))
    }

    /// MQTT 5 properties: a variable-byte length, then that many bytes (skipped).
    mutating func skipProperties() -> Bool {
        var len = 0, mult = 1
        for _ in 0..<4 {
            guard let b = u8() else { return false }
            len += Int(b & 0x7f) * mult
            mult *= 128
            if b & 0x80 == 0 { return skip(len) }
        }
        return false
    }
}
