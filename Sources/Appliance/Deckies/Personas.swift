// Personas.swift: the data a decky is made of: OS TCP/IP profiles (sysctls), distro profiles, archetypes,
// NIC vendors and hostname styles. Values follow ../shared/spec/decnet-reference.md §12.3-§12.5 and
// ../shared/spec/decoys.md §1.2-§1.5; the OUI table and the per-distro text (os-release, kernel) are ours.

/// Per-namespace IPv4 sysctls of an OS family (spec §12.5). Unknown slugs fall back to linux.
public struct OSProfile: Sendable, Equatable {
    public let slug: String
    public let sysctls: [(String, String)]

    public static func == (a: Self, b: Self) -> Bool { a.slug == b.slug }

    init(_ slug: String, ttl: Int, synRetries: Int, timestamps: Int, windowScaling: Int, sack: Int, ecn: Int,
         noPmtuDisc: Int, finTimeout: Int, icmpRatelimit: Int, icmpRatemask: Int) {
        self.slug = slug
        sysctls = [
            ("net.ipv4.ip_default_ttl", String(ttl)),
            ("net.ipv4.tcp_syn_retries", String(synRetries)),
            ("net.ipv4.tcp_timestamps", String(timestamps)),
            ("net.ipv4.tcp_window_scaling", String(windowScaling)),
            ("net.ipv4.tcp_sack", String(sack)),
            ("net.ipv4.tcp_ecn", String(ecn)),
            ("net.ipv4.ip_no_pmtu_disc", String(noPmtuDisc)),
            ("net.ipv4.tcp_fin_timeout", String(finTimeout)),
            ("net.ipv4.icmp_ratelimit", String(icmpRatelimit)),
            ("net.ipv4.icmp_ratemask", String(icmpRatemask)),
        ]
    }

    public var ttl: Int { Int(sysctls[0].1)! }

    public static let all: [OSProfile] = [
        OSProfile("linux", ttl: 64, synRetries: 6, timestamps: 1, windowScaling: 1, sack: 1, ecn: 2, noPmtuDisc: 0, finTimeout: 60, icmpRatelimit: 1000, icmpRatemask: 6168),
        OSProfile("windows", ttl: 128, synRetries: 2, timestamps: 1, windowScaling: 1, sack: 1, ecn: 0, noPmtuDisc: 0, finTimeout: 30, icmpRatelimit: 0, icmpRatemask: 0),
        OSProfile("windows_server", ttl: 128, synRetries: 2, timestamps: 1, windowScaling: 1, sack: 1, ecn: 1, noPmtuDisc: 0, finTimeout: 30, icmpRatelimit: 0, icmpRatemask: 0),
        OSProfile("bsd", ttl: 64, synRetries: 6, timestamps: 1, windowScaling: 1, sack: 1, ecn: 0, noPmtuDisc: 0, finTimeout: 60, icmpRatelimit: 250, icmpRatemask: 6168),
        OSProfile("embedded", ttl: 255, synRetries: 3, timestamps: 0, windowScaling: 0, sack: 0, ecn: 0, noPmtuDisc: 1, finTimeout: 15, icmpRatelimit: 0, icmpRatemask: 0),
        OSProfile("cisco", ttl: 255, synRetries: 2, timestamps: 0, windowScaling: 0, sack: 0, ecn: 0, noPmtuDisc: 1, finTimeout: 15, icmpRatelimit: 0, icmpRatemask: 0),
    ]

    public static func named(_ slug: String) -> OSProfile? { all.first { $0.slug == slug } }
    public static func resolve(_ slug: String) -> OSProfile { named(slug) ?? all[0] }
}

public enum HostnameStyle: String, Sendable { case generic, rhel, minimal, rolling }

/// A distro persona: what banners, os-release and uname say (spec §12.4; decoys.md §1.4).
public struct DistroProfile: Sendable, Equatable {
    public let slug: String
    public let display: String
    public let hostnameStyle: HostnameStyle
    /// /etc/os-release PRETTY_NAME, ID, VERSION_ID.
    public let prettyName: String
    public let id: String
    public let versionID: String
    /// `uname -r` and the kernel build string of `uname -v`.
    public let kernel: String
    public let kernelBuild: String
    /// The suffix Postfix prints in its banner ("Debian/GNU", "Ubuntu").
    public let postfixTag: String
    /// Product versions a persona of this distro ships (nginx, Apache, vsftpd, Redis, MySQL).
    public let nginx: String
    public let apache: String
    public let vsftpd: String
    public let redis: String
    public let mysql: String

    public static let all: [DistroProfile] = [
        DistroProfile(slug: "debian", display: "Debian 12 (Bookworm)", hostnameStyle: .generic,
                      prettyName: "Debian GNU/Linux 12 (bookworm)", id: "debian", versionID: "12",
                      kernel: "6.1.0-21-amd64", kernelBuild: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)",
                      postfixTag: "Debian/GNU", nginx: "nginx/1.22.1", apache: "Apache/2.4.59 (Debian)",
                      vsftpd: "3.0.3", redis: "7.0.15", mysql: "8.0.36"),
        DistroProfile(slug: "ubuntu22", display: "Ubuntu 22.04 LTS (Jammy)", hostnameStyle: .generic,
                      prettyName: "Ubuntu 22.04.4 LTS", id: "ubuntu", versionID: "22.04",
                      kernel: "5.15.0-118-generic", kernelBuild: "#128-Ubuntu SMP Fri Jul 5 09:28:59 UTC 2024",
                      postfixTag: "Ubuntu", nginx: "nginx/1.18.0 (Ubuntu)", apache: "Apache/2.4.52 (Ubuntu)",
                      vsftpd: "3.0.5", redis: "6.0.16", mysql: "8.0.36-0ubuntu0.22.04.1"),
        DistroProfile(slug: "ubuntu20", display: "Ubuntu 20.04 LTS (Focal)", hostnameStyle: .generic,
                      prettyName: "Ubuntu 20.04.6 LTS", id: "ubuntu", versionID: "20.04",
                      kernel: "5.4.0-182-generic", kernelBuild: "#202-Ubuntu SMP Fri Apr 26 12:29:36 UTC 2024",
                      postfixTag: "Ubuntu", nginx: "nginx/1.18.0 (Ubuntu)", apache: "Apache/2.4.41 (Ubuntu)",
                      vsftpd: "3.0.3", redis: "5.0.7", mysql: "8.0.36-0ubuntu0.20.04.1"),
        DistroProfile(slug: "rocky9", display: "Rocky Linux 9", hostnameStyle: .rhel,
                      prettyName: "Rocky Linux 9.4 (Blue Onyx)", id: "rocky", versionID: "9.4",
                      kernel: "5.14.0-427.13.1.el9_4.x86_64", kernelBuild: "#1 SMP PREEMPT_DYNAMIC Wed May 1 19:11:28 UTC 2024",
                      postfixTag: "", nginx: "nginx/1.20.1", apache: "Apache/2.4.57 (Rocky Linux)",
                      vsftpd: "3.0.5", redis: "6.2.7", mysql: "8.0.36"),
        DistroProfile(slug: "centos7", display: "CentOS 7", hostnameStyle: .rhel,
                      prettyName: "CentOS Linux 7 (Core)", id: "centos", versionID: "7",
                      kernel: "3.10.0-1160.119.1.el7.x86_64", kernelBuild: "#1 SMP Tue Jun 4 14:43:51 UTC 2024",
                      postfixTag: "", nginx: "nginx/1.20.1", apache: "Apache/2.4.6 (CentOS)",
                      vsftpd: "3.0.2", redis: "3.2.12", mysql: "5.7.44-log"),
        DistroProfile(slug: "alpine", display: "Alpine Linux 3.19", hostnameStyle: .minimal,
                      prettyName: "Alpine Linux v3.19", id: "alpine", versionID: "3.19.1",
                      kernel: "6.6.14-0-lts", kernelBuild: "#1-Alpine SMP PREEMPT_DYNAMIC Fri, 26 Jan 2024 11:08:07 +0000",
                      postfixTag: "", nginx: "nginx/1.24.0", apache: "Apache/2.4.58 (Unix)",
                      vsftpd: "3.0.5", redis: "7.2.4", mysql: "8.0.36"),
        DistroProfile(slug: "fedora", display: "Fedora 39", hostnameStyle: .rhel,
                      prettyName: "Fedora Linux 39 (Server Edition)", id: "fedora", versionID: "39",
                      kernel: "6.8.9-200.fc39.x86_64", kernelBuild: "#1 SMP PREEMPT_DYNAMIC Thu May  2 18:50:49 UTC 2024",
                      postfixTag: "", nginx: "nginx/1.24.0", apache: "Apache/2.4.59 (Fedora Linux)",
                      vsftpd: "3.0.5", redis: "7.2.4", mysql: "8.0.36"),
        DistroProfile(slug: "kali", display: "Kali Linux (Rolling)", hostnameStyle: .rolling,
                      prettyName: "Kali GNU/Linux Rolling", id: "kali", versionID: "2024.2",
                      kernel: "6.8.11-amd64", kernelBuild: "#1 SMP PREEMPT_DYNAMIC Kali 6.8.11-1kali2 (2024-05-30)",
                      postfixTag: "Debian/GNU", nginx: "nginx/1.26.0", apache: "Apache/2.4.59 (Debian)",
                      vsftpd: "3.0.3", redis: "7.0.15", mysql: "8.0.36"),
        DistroProfile(slug: "arch", display: "Arch Linux", hostnameStyle: .rolling,
                      prettyName: "Arch Linux", id: "arch", versionID: "",
                      kernel: "6.9.3-arch1-1", kernelBuild: "#1 SMP PREEMPT_DYNAMIC Fri, 31 May 2024 15:14:45 +0000",
                      postfixTag: "", nginx: "nginx/1.26.1", apache: "Apache/2.4.59 (Unix)",
                      vsftpd: "3.0.5", redis: "7.2.5", mysql: "8.0.37"),
    ]

    public static func named(_ slug: String) -> DistroProfile? { all.first { $0.slug == slug } }
}

/// A role a decky plays (spec §12.3): which services, distros, OS family and NIC vendors it gets.
public struct Archetype: Sendable, Equatable {
    public let slug: String
    public let display: String
    public let services: [String]
    public let distros: [String]
    public let nmapOS: String
    /// Vendor OUIs its MAC is drawn from (all present in nmap-mac-prefixes, so scanners name a vendor).
    public let ouis: [UInt32]

    public static let all: [Archetype] = [
        Archetype(slug: "windows-workstation", display: "Windows Workstation", services: ["smb", "rdp"], distros: ["debian", "ubuntu22"], nmapOS: "windows", ouis: [OUI.dell, OUI.hp, OUI.intel]),
        Archetype(slug: "windows-server", display: "Windows Server", services: ["smb", "rdp", "ldap"], distros: ["debian", "ubuntu22"], nmapOS: "windows_server", ouis: [OUI.dell, OUI.hpe, OUI.microsoft]),
        Archetype(slug: "domain-controller", display: "Domain Controller", services: ["ldap", "smb", "rdp", "llmnr"], distros: ["debian", "ubuntu22"], nmapOS: "windows_server", ouis: [OUI.dell, OUI.hpe]),
        Archetype(slug: "linux-server", display: "Linux Server", services: ["ssh", "http"], distros: ["debian", "ubuntu22", "rocky9", "fedora"], nmapOS: "linux", ouis: [OUI.dell, OUI.supermicro, OUI.vmware]),
        Archetype(slug: "web-server", display: "Web Server", services: ["http", "ftp"], distros: ["debian", "ubuntu22", "ubuntu20"], nmapOS: "linux", ouis: [OUI.dell, OUI.vmware, OUI.supermicro]),
        Archetype(slug: "database-server", display: "Database Server", services: ["mysql", "postgres", "redis"], distros: ["debian", "ubuntu22"], nmapOS: "linux", ouis: [OUI.dell, OUI.hpe, OUI.supermicro]),
        Archetype(slug: "mail-server", display: "Mail Server", services: ["smtp", "pop3", "imap"], distros: ["debian", "ubuntu22"], nmapOS: "linux", ouis: [OUI.dell, OUI.vmware]),
        Archetype(slug: "file-server", display: "File Server", services: ["smb", "ftp", "ssh"], distros: ["debian", "ubuntu22", "rocky9"], nmapOS: "linux", ouis: [OUI.synology, OUI.dell, OUI.supermicro]),
        Archetype(slug: "printer", display: "Network Printer", services: ["snmp", "ftp"], distros: ["alpine", "debian"], nmapOS: "embedded", ouis: [OUI.hpPrinter, OUI.hp]),
        Archetype(slug: "iot-device", display: "IoT Device", services: ["mqtt", "snmp", "telnet"], distros: ["alpine"], nmapOS: "embedded", ouis: [OUI.raspberryPi]),
        Archetype(slug: "industrial-control", display: "Industrial Control System", services: ["conpot", "snmp"], distros: ["debian"], nmapOS: "embedded", ouis: [OUI.raspberryPi, OUI.intel]),
        Archetype(slug: "voip-server", display: "VoIP Server", services: ["sip"], distros: ["debian", "ubuntu22"], nmapOS: "linux", ouis: [OUI.dell, OUI.vmware]),
        Archetype(slug: "monitoring-node", display: "Monitoring Node", services: ["snmp", "ssh"], distros: ["debian", "rocky9"], nmapOS: "linux", ouis: [OUI.vmware, OUI.supermicro]),
        Archetype(slug: "devops-host", display: "DevOps Host", services: ["docker_api", "ssh", "k8s"], distros: ["ubuntu22", "debian"], nmapOS: "linux", ouis: [OUI.vmware, OUI.dell]),
        Archetype(slug: "deaddeck", display: "Deaddeck (Entry Point)", services: ["ssh"], distros: ["debian", "ubuntu22"], nmapOS: "linux", ouis: [OUI.dell, OUI.vmware]),
    ]

    public static func named(_ slug: String) -> Archetype? { all.first { $0.slug == slug } }
}

/// NIC vendor prefixes (IEEE OUIs as nmap-mac-prefixes names them).
public enum OUI {
    public static let dell: UInt32 = 0xD4BED9         // Dell
    public static let hp: UInt32 = 0x3CD92B           // Hewlett Packard
    public static let hpe: UInt32 = 0xF0921C          // Hewlett Packard
    public static let hpPrinter: UInt32 = 0x001E0B    // Hewlett Packard
    public static let intel: UInt32 = 0x001B21        // Intel Corporate
    public static let supermicro: UInt32 = 0x002590   // Super Micro Computer
    public static let vmware: UInt32 = 0x005056       // VMware
    public static let microsoft: UInt32 = 0x00155D    // Microsoft (Hyper-V)
    public static let synology: UInt32 = 0x001132     // Synology Incorporated
    public static let raspberryPi: UInt32 = 0xB827EB  // Raspberry Pi Foundation
    /// For deckies without an archetype.
    public static let general: [UInt32] = [dell, hp, intel, supermicro, vmware]
}

/// A small deterministic generator (SplitMix64) seeded from a decky's name, so a decky keeps its MAC,
/// hostname and product versions across restarts and no two deckies share them by accident.
public struct SeededRandom: Sendable {
    private var state: UInt64

    public init(seed: String) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325                  // FNV-1a 64 of the seed text
        for b in seed.utf8 { h ^= UInt64(b); h &*= 0x0000_0100_0000_01b3 }
        state = h
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    public mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
}

public enum Hostnames {
    static let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
                        "kilo", "lima", "mike", "nova", "oscar", "prod", "web", "db", "mail", "proxy", "dev", "stage",
                        "backup", "monitor", "files"]

    /// A hostname in the distro's style (spec §12.4), stable for a seed.
    public static func make(style: HostnameStyle, rng: inout SeededRandom) -> String {
        let w = rng.pick(words)
        let n = 10 + rng.below(90)
        switch style {
        case .generic: return "SRV-\(w.uppercased())-\(n)"
        case .rhel: return "\(w)\(n).localdomain"
        case .minimal: return "\(w)-\(n)"
        case .rolling:
            var w2 = rng.pick(words)
            if w2 == w { w2 = words[(words.firstIndex(of: w)! + 1) % words.count] }
            return "\(w)-\(w2)"
        }
    }
}

/// A locally stable, globally plausible MAC: the vendor's OUI and 24 seeded bits.
public func personaMAC(oui: UInt32, rng: inout SeededRandom) -> String {
    let tail = UInt32(truncatingIfNeeded: rng.next()) & 0xFF_FFFF
    let b = [UInt8(oui >> 16 & 0xff), UInt8(oui >> 8 & 0xff), UInt8(oui & 0xff),
             UInt8(tail >> 16 & 0xff), UInt8(tail >> 8 & 0xff), UInt8(tail & 0xff)]
    let hex: [Character] = Array("0123456789abcdef")
    return b.map { String([hex[Int($0 >> 4)], hex[Int($0 & 15)]]) }.joined(separator: ":")
}
