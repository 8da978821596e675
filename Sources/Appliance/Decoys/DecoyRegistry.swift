// DecoyRegistry.swift: the one list of decoys this appliance serves, and the service slugs the original
// knows (spec §12.2) so an INI naming a service we do not serve yet gets "not available", not "unknown".

public enum DecoyRegistry {
    /// The original's per-decky service slugs (spec §12.2; `sniffer` is a fleet singleton, not a decoy).
    public static let knownSlugs: Set<String> = [
        "ssh", "telnet", "http", "https", "ftp", "smtp", "smtp_relay", "pop3", "imap", "dns", "llmnr", "smb", "rdp",
        "vnc", "ldap", "mysql", "postgres", "mssql", "mongodb", "redis", "elasticsearch", "docker_api", "k8s", "mqtt",
        "snmp", "tftp", "sip", "conpot",
    ]

    static let definitions: [DecoyDefinition] = [
        SSHDecoy.definition, TelnetDecoy.definition, HTTPDecoy.definition, TLSDecoy.https, FTPDecoy.definition, SMTPDecoy.definition,
        RedisDecoy.definition, MySQLDecoy.definition, MQTTDecoy.definition,
    ]

    static let bySlug: [String: DecoyDefinition] = Dictionary(definitions.map { ($0.slug, $0) }, uniquingKeysWith: { a, _ in a })

    public static func decoy(_ slug: String) -> DecoyDefinition? { bySlug[slug] }
    public static var availableSlugs: [String] { definitions.map(\.slug) }

    /// Every decoy event by id (the event catalogue consults this for decoy ids).
    public static let eventSpecs: [String: EventSpec] = {
        var m: [String: EventSpec] = [:]
        for d in definitions { for e in d.events { m[e.id] = e } }
        return m
    }()
}
