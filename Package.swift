// swift-tools-version:6.1
// decnet: deception-network appliance. Layout and dependency direction are fixed:
// CPacket <- Fingerprint <- Appliance <- Control <- decnet (see DEVELOPERS.md / STYLE.md).
// C targets are named after what they hold: CPacket (capture, decode, stream, parse, ring, engine),
// CDecoyCrypto (the decoys' SSH/TLS wire crypto on OpenSSL, used only by Appliance/Decoys) and
// Sources/CSystem (netns/setns, bcrypt, privileges; module CDecnetSystem because swift-system, which
// swift-nio resolves, already owns a target named CSystem). Tests/ArchitectureTests checks these rules.
import PackageDescription

// C core flags: optimise the packet path even in debug builds (the root package may use unsafeFlags).
let cFlags: [CSetting] = [
    .define("_GNU_SOURCE"),
    .unsafeFlags(["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-strict-aliasing"]),
]

let package = Package(
    name: "decnet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "decnet", targets: ["decnet"]),
        .library(name: "CPacket", targets: ["CPacket"]),
        .library(name: "Fingerprint", targets: ["Fingerprint"]),
        .library(name: "Appliance", targets: ["Appliance"]),
    ],
    traits: [
        // FoxIO License 1.1 methods (JA4S/JA4H/JA4T/JA4TS/JA4L/JA4X/JA4SSH) live in
        // Sources/Fingerprint/JA4Plus and compile only with this trait.
        // Build without them: `swift build --disable-default-traits`.
        .trait(name: "JA4Plus", description: "FoxIO-licensed JA4+ fingerprint methods"),
        .default(enabledTraits: ["JA4Plus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Store: GRDB over the system SQLite (WAL, migrations, one writer + reader pool).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Bus broker/client on UNIX sockets; Hummingbird (control plane) shares this NIO.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // REST API + dashboard (Control). Without swift-configuration: decnet reads its own flags/env.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        // Digests, HMAC, random and (later) Ed25519 for Swift code; C code keeps OpenSSL.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // Long-running parts are Services in one ServiceGroup per daemon; logs go through swift-log.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        // HTTPS for the API (HummingbirdTLS) and the CLI's client (async-http-client).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
        // X.509 for the API's self-signed certificate (--tls auto) and, next, the swarm's PKI.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    ],
    targets: [
        .target(
            name: "CPacket",
            exclude: [],
            cSettings: cFlags,
            // OpenSSL for TLS 1.3 / QUIC Initial decryption; brotli and zlib for compressed certificates.
            linkerSettings: [.linkedLibrary("pcap"), .linkedLibrary("ssl"), .linkedLibrary("crypto"), .linkedLibrary("brotlidec"), .linkedLibrary("z"), .linkedLibrary("pthread")]
        ),
        // The decoys' SSH and TLS server crypto on OpenSSL, so JA3S/HASSH-server look like real servers'.
        .target(
            name: "CDecoyCrypto",
            cSettings: cFlags,
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto"), .linkedLibrary("z")]
        ),
        // System calls that are not packet work: netns/setns sockets and sysctls, bcrypt, privileges
        // (capabilities, user switch, seccomp), gzip of the swarm's shipped batches (zlib). pcap only compiles the decoys' port-scan filter.
        .target(name: "CDecnetSystem", path: "Sources/CSystem", cSettings: cFlags,
                linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("crypt"), .linkedLibrary("pcap"), .linkedLibrary("z")]),
        .target(
            name: "Fingerprint",
            dependencies: ["CPacket", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["JA4Plus/LICENSE", "JA4Plus/NOTICE"]
        ),
        .target(
            name: "Appliance",
            dependencies: [
                "CPacket", "CDecoyCrypto", "CDecnetSystem", "Fingerprint",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            // Release builds skip dynamic exclusivity checks (6% of the broker's CPU, measured); debug keeps them.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "Control",
            dependencies: [
                "Appliance", "CDecnetSystem", "Fingerprint",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "decnet",
            dependencies: [
                "Appliance", "Control",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "CPacketTests", dependencies: ["CPacket", "TestSupport"]),
        .testTarget(name: "FingerprintTests", dependencies: ["Fingerprint", "CPacket", "TestSupport"]),
        .testTarget(
            name: "ApplianceTests",
            dependencies: [
                "Appliance", "Fingerprint", "TestSupport", "CDecoyCrypto",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "ControlTests", dependencies: [
            "Control", "Appliance", "TestSupport",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Source-tree rules (which module may import what, where SQL and getenv may appear).
        .testTarget(name: "ArchitectureTests", dependencies: [], path: "Tests/ArchitectureTests"),
        .target(name: "TestSupport", dependencies: ["CPacket"], path: "Tests/Support"),
        // Swift-side fuzzing (issue 16): one executable, a deterministic mutation driver in ordinary builds and
        // libFuzzer when built with -sanitize=fuzzer (Tests/SwiftFuzz/run.sh).
        .target(name: "CFuzzDriver", path: "Tests/SwiftFuzz/CFuzzDriver"),
        .executableTarget(name: "decnet-fuzz", dependencies: ["Appliance", "Control", "Fingerprint", "CFuzzDriver"], path: "Tests/SwiftFuzz/Driver"),
    ]
)
