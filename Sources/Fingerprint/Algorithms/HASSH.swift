// HASSH.swift: HASSH / HASSHServer, Salesforce, BSD-3-Clause.
// Client: MD5("kex;enc c2s;mac c2s;comp c2s"); server: MD5("kex;enc s2c;mac s2c;comp s2c").

public struct HASSH: Sendable, Equatable {
    public let algorithms: String
    public let hash: String

    public init(client k: KexInit) {
        algorithms = [k.lists[0], k.lists[2], k.lists[4], k.lists[6]].joined(separator: ";")
        hash = Digest.md5Hex(algorithms)
    }

    public init(server k: KexInit) {
        algorithms = [k.lists[0], k.lists[3], k.lists[5], k.lists[7]].joined(separator: ";")
        hash = Digest.md5Hex(algorithms)
    }

    /// The negotiated cipher: first server s2c cipher that the client also offered c2s (RFC 4253 §7.1).
    public static func negotiatedCipher(client: KexInit, server: KexInit) -> String? {
        let offered = Set(client.lists[2].split(separator: ","))
        return server.lists[3].split(separator: ",").first { offered.contains($0) }.map(String.init)
    }
}
