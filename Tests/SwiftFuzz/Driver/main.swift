// decnet-fuzz: fuzz harnesses for the Swift side (issue 16): every decoy session (bytes in all at once and
// drip-fed), the bus frame reader, the INI parser and deploy planner, JSON, the JWT verifier, every API
// route's query parameters and JSON bodies (the SSE stream's included) and the dashboard's inputs.
//
//   decnet-fuzz --list
//   decnet-fuzz HARNESS [--seconds S] [--runs N] [--corpus DIR]...     deterministic mutation driver
//   decnet-fuzz HARNESS --write-seeds DIR                               the built-in seeds as files
//   DECNET_FUZZ_HARNESS=HARNESS decnet-fuzz [libFuzzer flags] [CORPUS_DIR...]
//        in a build with -sanitize=fuzzer (Tests/SwiftFuzz/run.sh --libfuzzer): libFuzzer's own main runs,
//        coverage-guided, through LLVMFuzzerInitialize/TestOneInput in CFuzzDriver/driver.c
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

// A -sanitize=fuzzer build: libFuzzer drives, with every argument (flags, corpus directories).
if getenv("DECNET_FUZZ_HARNESS") != nil {
    guard decnet_fuzz_have_libfuzzer() != 0 else {
        stderrLine("decnet-fuzz: DECNET_FUZZ_HARNESS is set but this build has no libFuzzer (Tests/SwiftFuzz/run.sh --libfuzzer builds one)")
        exit(69)
    }
    exit(decnet_fuzz_run_libfuzzer(CommandLine.argc, CommandLine.unsafeArgv))
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "--list" || args.isEmpty {
    for h in allHarnesses { print(h.name) }
    exit(args.isEmpty ? 64 : 0)
}
let name = args.removeFirst()
guard let harness = allHarnesses.first(where: { $0.name == name }) else {
    stderrLine("decnet-fuzz: no harness \(name) (--list)")
    exit(64)
}
// The built-in seeds as files (how Tests/SwiftFuzz/corpus/<harness>/seed-* were made).
if args.first == "--write-seeds", args.count == 2 {
    makeDirectories(args[1])
    for (i, seed) in harness.seeds.enumerated() { writeWholeFile(args[1] + "/seed-\(i)", seed) }
    exit(0)
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
