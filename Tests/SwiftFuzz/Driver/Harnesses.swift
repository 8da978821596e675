// Harnesses.swift: the inputs decnet-fuzz drives (globals here initialise lazily, so the libFuzzer build,
// whose `main` is libFuzzer's, can use them from LLVMFuzzerInitialize/TestOneInput).
import Appliance
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

nonisolated(unsafe) let fuzzDecky = DeckySpec(name: "decky-01", ip: IPv4("10.9.0.2")!, mac: "d4:be:d9:00:00:01", hostname: "SRV-ALPHA-12",
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

/// Uploads (SMTP messages, ...) are written for real, under a small quota so a long run cannot fill the disk.
nonisolated(unsafe) let fuzzArtifacts: String = {
    let dir = "/tmp/decnet-fuzz-artifacts-\(getpid())"
    makeDirectories(dir)
    ArtifactQuota.shared.configure(.init(perSource: 4 << 20, perDecky: 8 << 20, total: 16 << 20))
    return dir
}()

func runDecoy(_ slug: String, _ data: [UInt8]) {
    guard let def = DecoyRegistry.decoy(slug) else { return }
    for drip in [false, true] {
        let info = DecoySessionInfo(decky: fuzzDecky, service: slug, sessionID: "fuzz", client: IPAddress(parsing: "10.9.0.1")!,
                                    clientPort: 40000, local: IPAddress(parsing: "10.9.0.2")!, localPort: def.ports[0], artifactsDir: fuzzArtifacts)
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

nonisolated(unsafe) let decoySeeds: [String: [String]] = [
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

nonisolated(unsafe) let fuzzHost = HostFacts(interfaces: ["br0"], networks: ["br0": [(IPv4("10.9.0.1")!, 24)]])

nonisolated(unsafe) let allHarnesses: [FuzzHarness] = makeHarnesses()

/// A fleet CA for the swarm harness (made once per process under /tmp).
nonisolated(unsafe) let fuzzAuthority: SwarmAuthority = try! SwarmAuthority.loadOrCreate(directory: "/tmp/decnet-fuzz-swarm-\(getpid())", names: [])

func makeHarnesses() -> [FuzzHarness] {
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
    // The swarm's unauthenticated or pre-pin inputs: join tokens, CSRs, gzip bodies, SPIFFE URIs, signed commands.
    FuzzHarness(name: "swarm", seeds: ["\u{0}decnet1.\(String(repeating: "ab", count: 32)).0123456789abcdef.\(String(repeating: "A", count: 43))",
                                       "\u{1}MIIBBjCBrgIBADAOMQwwCgYDVQQDDAN3MTE=", "\u{2}\u{1f}\u{8b}\u{8}\u{0}", "\u{3}spiffe://decnet/abc/worker/1",
                                       "\u{4}{\"command\":\"self-destruct\",\"host_uuid\":\"h1\",\"nonce\":\"\(String(repeating: "0", count: 32))\",\"issued_at\":1,\"expires_at\":2}"]
                                      .map { Array($0.utf8) }) { data in
        guard let first = data.first else { return }
        let rest = Array(data.dropFirst()), text = String(decoding: rest, as: UTF8.self)
        switch first % 5 {
        case 0: _ = try? SwarmJoinToken.parse(text)
        case 1:
            _ = try? SwarmPKI.parseCSR(derBase64: text)
            _ = try? SwarmPKI.parseCSR(derBase64: Base64.encode(rest))
        case 2: _ = try? SwarmGzip.inflate(rest, limit: 1 << 20)
        case 3: _ = SwarmIdentity.parse(uri: text)
        default:
            guard let v = try? JSONValue.parse(rest) else { return }
            _ = try? SignedCommand.verify(v, command: "self-destruct", hostUUID: "h1", masterPins: [fuzzAuthority.masterPin], root: fuzzAuthority.root,
                                          nonces: SignedCommandNonces(path: fuzzAuthority.directory + "/nonces"), now: 1.5)
        }
    },
    FuzzHarness(name: "dashboard", seeds: ["username=admin&password=x%41+b&csrf=abc", "offset=9223372036854775807", "::ffff:10.0.0.1"].map { Array($0.utf8) }) {
        HostileInputProbe.dashboard($0)
    },
]
    return harnesses
}

// MARK: the libFuzzer entry points (called from CFuzzDriver/driver.c)

nonisolated(unsafe) var selectedHarness: FuzzHarness?

@_cdecl("decnet_fuzz_select")
public func decnetFuzzSelect(_ name: UnsafePointer<CChar>) -> Int32 {
    let n = String(cString: name)
    selectedHarness = allHarnesses.first { $0.name == n }
    return selectedHarness == nil ? 1 : 0
}

@_cdecl("decnet_fuzz_one")
public func decnetFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) {
    selectedHarness?.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
}
