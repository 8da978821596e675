// ArchitectureTests.swift: the source tree's load-bearing rules, checked by reading Sources/ (issue 17).
// Which module may import which C target, where configuration is read from the environment, where SQL and
// the store's concrete types may appear, and which shortcuts (usleep waits, signalling ourselves) are gone.
import Foundation
import Testing

/// The repository root, found from this file's path (Tests/ArchitectureTests/<file>).
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Every file under `dir` (relative to the root) whose name ends with one of `suffixes`, with its text.
private func files(under dir: String, _ suffixes: [String]) -> [(path: String, text: String)] {
    let base = root.appendingPathComponent(dir)
    guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
    var out: [(String, String)] = []
    for case let url as URL in walker where suffixes.contains(where: { url.lastPathComponent.hasSuffix($0) }) {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
        out.append((String(url.path.dropFirst(root.path.count + 1)), text))
    }
    return out.sorted { $0.0 < $1.0 }
}

/// Lines of `text` that match `pattern` and are not comments, as "path:line: text".
private func hits(_ pattern: String, in list: [(path: String, text: String)]) -> [String] {
    let re = try! NSRegularExpression(pattern: pattern)
    var out: [String] = []
    for (path, text) in list {
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = String(line)
            let trimmed = l.drop { $0 == " " }
            if trimmed.hasPrefix("//") || trimmed.hasPrefix("*") || trimmed.hasPrefix("/*") { continue }
            if re.firstMatch(in: l, range: NSRange(l.startIndex..., in: l)) != nil { out.append("\(path):\(n + 1): \(l)") }
        }
    }
    return out
}

private func imports(of list: [(path: String, text: String)]) -> Set<String> {
    let re = try! NSRegularExpression(
        pattern: #"^\s*(?:@_\w+\s+)?(?:public |internal |package )?import\s+(?:struct |enum |class |func )?(\w+)"#,
        options: .anchorsMatchLines)
    var out = Set<String>()
    for (_, text) in list {
        for m in re.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            out.insert(String(text[Range(m.range(at: 1), in: text)!]))
        }
    }
    return out
}

@Suite struct ArchitectureRules {
    @Test func theTreeIsFound() {
        #expect(!files(under: "Sources/CPacket", [".c"]).isEmpty)
        #expect(!files(under: "Sources/Appliance", [".swift"]).isEmpty)
    }

    @Test func cPacketIncludesNeitherDecoyCryptoNorSystem() {
        let c = files(under: "Sources/CPacket", [".c", ".h"])
        #expect(hits(#"#\s*include\s*[<"](dc_|cs_|CDecoyCrypto|CDecnetSystem)"#, in: c) == [])
        // Nor does it carry their code: no SSH server crypto, TLS server, netns or bcrypt in the packet core.
        #expect(hits(#"\b(setns|crypt_r|SSL_accept|SSL_CTX_new)\s*\("#, in: c) == [])
    }

    @Test func streamDoesNotReachUpIntoTheEngine() {
        let stream = files(under: "Sources/CPacket/stream", [".c", ".h"])
        #expect(!stream.isEmpty)
        #expect(hits(#"#\s*include\s*"\.\./engine/|\bcp_engine\b|\bcp_flow\b|\bcp_tcp_deliver\b|\bcp_tcp_gap\b"#, in: stream) == [])
    }

    @Test func tcpProtocolsAreRegisteredNotHardWired() {
        let hub = files(under: "Sources/CPacket/engine", [".c"]).filter { $0.path.hasSuffix("app_tcp.c") }
        #expect(hits(#"cp_tcp_apps\[\]\s*=\s*\{"#, in: hub).count == 1)
        #expect(hits(#"\b(tls_record|ssh_step|http_step)\s*\("#, in: hub) == [])
    }

    @Test func fingerprintImportsOnlyCPacketAndCrypto() {
        let used = imports(of: files(under: "Sources/Fingerprint", [".swift"]))
        #expect(used.subtracting(["CPacket", "Crypto"]) == [])
    }

    @Test func controlNeverImportsCPacket() {
        let used = imports(of: files(under: "Sources/Control", [".swift"]))
        #expect(!used.contains("CPacket"))
        #expect(!used.contains("CDecoyCrypto"))
    }

    @Test func decoyCryptoIsUsedOnlyByTheDecoys() {
        let all = files(under: "Sources", [".swift"]).filter { !$0.path.hasPrefix("Sources/Appliance/Decoys/") }
        #expect(hits(#"^\s*import\s+CDecoyCrypto"#, in: all) == [])
    }

    @Test func environmentIsReadOnlyByTheConfiguration() {
        let all = files(under: "Sources", [".swift", ".c", ".h"])
            .filter { $0.path != "Sources/Appliance/Support/Configuration.swift" }
        #expect(hits(#"\bgetenv\s*\(|processInfo\.environment|\benviron\b"#, in: all) == [])
    }

    @Test func onlyTheStoreNamesSQLiteStoreGRDBOrSQL() {
        let all = files(under: "Sources", [".swift"]).filter { !$0.path.hasPrefix("Sources/Appliance/Store/") }
        #expect(hits(#"\bSQLiteStore\b|\bimport\s+GRDB|\bGRDB\.|\bDatabaseQueue\b|\bDatabasePool\b"#, in: all) == [])
        #expect(hits(#"(?i)"[^"]*\b(SELECT\s+[\w*]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX))"#, in: all) == [])
    }

    @Test func decoyStateIsOwnedByTheServerNotGlobal() {
        let decoys = files(under: "Sources/Appliance/Decoys", [".swift"])
        #expect(hits(#"nonisolated\(unsafe\)|static var [a-zA-Z]+\s*:\s*\[String:"#, in: decoys) == [])
    }

    @Test func noSleepingWaitsOrSignallingOurselves() {
        let all = files(under: "Sources", [".swift"])
        #expect(hits(#"\busleep\s*\(|kill\s*\(\s*getpid\s*\(\s*\)"#, in: all) == [])
    }
}
