// swift-tools-version:6.1
// decnet parser micro-benchmarks (package-benchmark). A separate package so that CI's build of decnet
// never compiles the benchmark dependencies: run with `cd Benchmarks && swift package benchmark`.
import Foundation
import PackageDescription

// A path dependency's identity is its directory name (the checkout may be called anything).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "decnet-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ParserBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CPacket", package: root),
                .product(name: "Fingerprint", package: root),
            ],
            path: "ParserBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
