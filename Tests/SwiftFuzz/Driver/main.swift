// decnet-fuzz: fuzz harnesses for the Swift side (issue 16): every decoy session (bytes in all at once and
// drip-fed), the bus frame reader, the INI parser and deploy planner, JSON, the JWT verifier, every API
// route's query parameters and JSON bodies (the SSE stream's included) and the dashboard's inputs.
//
//   decnet-fuzz --list
//   decnet-fuzz HARNESS [--seconds S] [--runs N] [--corpus DIR]...     deterministic mutation driver
//   decnet-fuzz HARNESS --libfuzzer [libFuzzer flags] [CORPUS_DIR...]   coverage-guided (needs a build with
//                                                                        -sanitize=fuzzer: Tests/SwiftFuzz/run.sh)
//
// The mutation driver is deterministic (a fixed-seed PRNG), so a CI failure reproduces with the same command;
// on a trap the input being run is written to `crash-HARNESS` in the working directory before the process dies.
import Appliance
import CFuzzDriver
import Control
import Fingerprint
#if canImport(Glibc)
import Glibc
#endif

struct FuzzHarness {
    let name: String
    let seeds: [[UInt8]]
    let run: ([UInt8]) -> Void
}

// MARK: decoys

let fuzzDecky = DeckySpec(name: "decky-01", ip: IPv4("10.9.0.2")!, mac: "d4:be:d9:00:00:01", hostname: "SRV-ALPHA-12",
                          services: DecoyRegistry.availableSlugs, distro: "debian", archetype: nil, nmapOS: "linux")

/// Runs what a session queued; timers fire at once (bounded rounds: a timer may queue another).
func settle(_ io: DecoyIO) {
    for _ in 0..<8 {
        let (outs, _) = io.drain()
        var ran = false
        for o in outs { if case .call(_, let body) = o { body(); ran = true } }
        if !ran { return }
    }
}

func runDecoy(_ slug: String, _ data: [UInt8]) {
    guard let def = DecoyRegistry.decoy(slug) else { return }
    for drip in [false, true] {
        let info = DecoySessionInfo(decky: fuzzDecky, service: slug, sessionID: "fuzz", client: IPAddress(parsing: "10.9.0.1")!,
                                    clientPort: 40000, local: IPAddress(parsing: "10.9.0.2")!, localPort: def.ports[0], artifactsDir: nil)
        let session = def.make(info)
        let io = DecoyIO()
        session.start(io)
        settle(io)
        if !drip {
            session.receive(data, io)
            settle(io)
        } else {
            // Chunk sizes 1..8 drawn from the input itself: the same bytes split at many boundaries.
            var i = 0, k = 0
            while i < data.count {
                let n = 1 + Int(data[k % data.count] & 7)
                session.receive(Array(data[i..<min(data.count, i + n)]), io)
                settle(io)
                i += n
                k += 1
            }
        }
        session.end(reason: "fuzz", io)
        settle(io)
    }
}

let decoySeeds: [String: [String]] = [
    "http": ["GET / HTTP/1.1\r\nHost: a\r\n\r\n", "POST /login HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
             "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nAuthorization: Basic YWRtaW46cGFzcw==\r\n\r\nhello"],
    "https": ["\u{16}\u{03}\u{01}\u{00}\u{05}\u{01}\u{00}\u{00}\u{01}\u{00}"],
    "ftp": ["USER anonymous\r\nPASS x@y\r\nPASV\r\nLIST\r\nREST 100\r\nRETR a\r\nQUIT\r\n"],
    "smtp": ["EHLO x\r\nAUTH PLAIN AGFkbWluAHBhc3M=\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"],
    "redis": ["*2\r\n$4\r\nAUTH\r\n$4\r\npass\r\n*1\r\n$4\r\nINFO\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"],
    "mysql": ["\u{20}\u{00}\u{00}\u{01}\u{85}\u{a6}\u{ff}\u{01}\u{00}\u{00}\u{00}\u{01}\u{21}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}\u{00}root\u{00}\u{00}"],
    "mqtt": ["\u{10}\u{16}\u{00}\u{04}MQTT\u{04}\u{c2}\u{00}\u{3c}\u{00}\u{01}c\u{00}\u{01}u\u{00}\u{01}p"],
    "telnet": ["\u{ff}\u{fb}\u{18}\u{ff}\u{fa}\u{1f}\u{00}\u{50}\u{00}\u{18}\u{ff}\u{f0}root\r\npassword\r\nls -la\r\nexit\r\n"],
    "ssh": ["SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n\u{00}\u{00}\u{00}\u{0c}\u{0a}\u{14}abcdefghijklmnop"],
]

// MARK: the other inputs

let fuzzHost = HostFacts(interfaces: ["br0"], networks: ["br0": [(IPv4("10.9.0.1")!, 24)]])

var harnesses: [FuzzHarness] = DecoyRegistry.availableSlugs.map { slug in
    FuzzHarness(name: "decoy-\(slug)", seeds: (decoySeeds[slug] ?? ["\r\n"]).map { Array($0.utf8) }, run: { runDecoy(slug, $0) })
}
harnesses += [
    FuzzHarness(name: "json", seeds: [#"{"a":[1,2.5,-3e10,"x\u00e9\n",true,null,{"b":{}}]}"#, "[]"].map { Array($0.utf8) }) { data in
        guard let v = try? JSONValue.parse(data) else { return }
        // Oracle: what we write, we read back the same.
        let again = try? JSONValue.parse(Array(v.serialized.utf8))
        if again != v { fatalError("json: round trip changed the value") }
        _ = data.withUnsafeBytes { raw in try? JSONScanner.members(of: raw) { _, _ in } }
    },
    FuzzHarness(name: "bus-frame", seeds: ["PUB decky.a.traffic 5\nhello", "SUB system.*\n", "PING\n"].map { Array($0.utf8) }) { data in
        data.withUnsafeBytes { raw in
            var off = 0, scanned = 0
            while off < raw.count {
                guard let r = try? BusFrameParser.parse(UnsafeRawBufferPointer(rebasing: raw[off...]), scanned: &scanned),
                      r.consumed > 0 else { return }
                off += r.consumed
                scanned = 0
            }
        }
    },
    FuzzHarness(name: "ini", seeds: ["[decky-01]\nip = 10.9.0.5\nservices = ssh, http\n[decky-01.ssh]\npersona = debian12\n",
                                     "[general]\nnet = 10.9.0.0/24\n[x]\namount = 3\narchetype = linux-server\n"].map { Array($0.utf8) }) { data in
        let text = String(decoding: data, as: UTF8.self)
        _ = INIFile(text: text, name: "fuzz.ini")
        var req = DeployRequest()
        req.ini = (text, "fuzz.ini")
        _ = try? DeckyPlanner.plan(req, host: fuzzHost, existing: [], existingNetwork: nil)
    },
    FuzzHarness(name: "jwt", seeds: [#"{"uuid":"u","jti":"j","iat":1,"exp":4102444800,"iss":"decnet","aud":"decnet-dashboard","typ":"access"}"#,
                                     "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"].map { Array($0.utf8) }) { HostileInputProbe.token($0) },
    FuzzHarness(name: "api-query", seeds: ["\u{0}50", "\u{3}9223372036854775807", "\u{5}2026-11-23T10:00:00.5+01:00", "\u{7}decky:a service:ssh"].map { Array($0.utf8) }) { data in
        guard let first = data.first else { return }
        HostileInputProbe.query(target: Int(first), value: String(decoding: data.dropFirst(), as: UTF8.self))
    },
    FuzzHarness(name: "api-body", seeds: ["\u{0}{\"username\":\"admin\",\"password\":\"x\"}", "\u{2}{\"ini_content\":\"[a]\",\"replace_fleet\":true}",
                                          "\u{4}{\"deployment_limit\":9007199254740993}"].map { Array($0.utf8) }) { data in
        guard let first = data.first else { return }
        HostileInputProbe.body(target: Int(first), bytes: Array(data.dropFirst()))
    },
    FuzzHarness(name: "dashboard", seeds: ["username=admin&password=x%41+b&csrf=abc", "offset=9223372036854775807", "::ffff:10.0.0.1"].map { Array($0.utf8) }) {
        HostileInputProbe.dashboard($0)
    },
]

// MARK: the mutation driver

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

/// Tokens that matter to the parsers: signs, separators, numbers at the edges, control characters.
let dictionary: [[UInt8]] = ["-1", "-", "+", "0", "ffffffff", "9223372036854775807", "18446744073709551616", "\r\n", "\n", "\r\n\r\n",
                             "\u{0}", "\u{1b}[", "\u{c2}\u{9b}", "\u{ff}", ":", ";", ",", "=", "&", "%", "%00", "\"", "\\", "{", "}", "[", "]",
                             "Transfer-Encoding: chunked\r\n", "Content-Length: ", "*", "$", "1e400", "null"].map { Array($0.utf8) }

func mutate(_ input: [UInt8], _ rng: inout SplitMix64, _ pool: [[UInt8]]) -> [UInt8] {
    var b = input
    for _ in 0...rng.below(4) {
        switch rng.below(8) {
        case 0 where !b.isEmpty: b[rng.below(b.count)] ^= UInt8(1 << rng.below(8))
        case 1 where !b.isEmpty: b[rng.below(b.count)] = [0, 0xff, 0x7f, 0x80, 0x2d, 0x0a, 0x0d, 0x20][rng.below(8)]
        case 2:
            let t = dictionary[rng.below(dictionary.count)]
            b.insert(contentsOf: t, at: rng.below(b.count + 1))
        case 3 where !b.isEmpty:
            let at = rng.below(b.count)
            b.removeSubrange(at..<min(b.count, at + 1 + rng.below(16)))
        case 4 where !b.isEmpty:
            let at = rng.below(b.count), n = min(b.count - at, 1 + rng.below(64))
            b.insert(contentsOf: Array(b[at..<(at + n)]), at: rng.below(b.count + 1))
        case 5:
            let other = pool[rng.below(pool.count)]
            if !other.isEmpty {
                let at = rng.below(other.count)
                b = Array(b.prefix(rng.below(b.count + 1))) + other[at...]
            }
        case 6 where !b.isEmpty:
            // A run of one byte (long lines, long numbers).
            b.insert(contentsOf: [UInt8](repeating: b[rng.below(b.count)], count: 1 + rng.below(300)), at: rng.below(b.count + 1))
        default:
            if b.count > 1 { b.removeLast(rng.below(b.count)) }
        }
    }
    return b.count > 65_536 ? Array(b.prefix(65_536)) : b
}

func readCorpus(_ dir: String) -> [[UInt8]] {
    guard let d = opendir(dir) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafePointer(to: e.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        if !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted().compactMap { readFile(dir + "/" + $0, limit: 1 << 20) }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// MARK: main

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "--list" || args.isEmpty {
    for h in harnesses { print(h.name) }
    exit(args.isEmpty ? 64 : 0)
}
let name = args.removeFirst()
guard let harness = harnesses.first(where: { $0.name == name }) else {
    stderrLine("decnet-fuzz: no harness \(name) (--list)")
    exit(64)
}
nonisolated(unsafe) var currentHarness = harness

if args.first == "--libfuzzer" {
    guard decnet_fuzz_have_libfuzzer() != 0 else {
        stderrLine("decnet-fuzz: this build has no libFuzzer (build with Tests/SwiftFuzz/run.sh --libfuzzer)")
        exit(69)
    }
    args.removeFirst()
    var argv: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments[0]] + args).map { strdup($0) }
    let rc = argv.withUnsafeMutableBufferPointer { p in
        decnet_fuzz_run_libfuzzer(Int32(p.count), p.baseAddress, { data, size in
            currentHarness.run(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
    }
    exit(rc)
}

var seconds = 10.0, runs = Int.max
var corpus: [[UInt8]] = harness.seeds
while !args.isEmpty {
    let flag = args.removeFirst()
    guard let value = args.first else { stderrLine("decnet-fuzz: \(flag) needs a value"); exit(64) }
    args.removeFirst()
    switch flag {
    case "--seconds": seconds = Double(value) ?? seconds
    case "--runs": runs = CheckedInt.parse(value, in: 1...Int.max) ?? runs
    case "--corpus": corpus += readCorpus(value)
    default: stderrLine("decnet-fuzz: unknown flag \(flag)"); exit(64)
    }
}

decnet_fuzz_install_crash_writer("crash-\(name)")
var rng = SplitMix64(state: 0x6465_636E_6574 ^ UInt64(truncatingIfNeeded: name.utf8.reduce(5381) { ($0 << 5) &+ $0 &+ Int($1) }))
let started = now()
var executed = 0
// Every seed as it is first, then mutations.
for input in corpus {
    input.withUnsafeBufferPointer { decnet_fuzz_current($0.baseAddress, $0.count) }
    harness.run(input)
    executed += 1
}
while executed < runs && now() - started < seconds {
    let input = mutate(corpus[rng.below(corpus.count)], &rng, corpus)
    input.withUnsafeBufferPointer { decnet_fuzz_current($0.baseAddress, $0.count) }
    harness.run(input)
    executed += 1
}
print("decnet-fuzz: \(name): \(executed) inputs in \(decimalText(now() - started, 1)) s, no crash (corpus \(corpus.count))")
