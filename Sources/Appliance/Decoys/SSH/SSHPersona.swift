// SSHPersona.swift: what an OpenSSH build shows before encryption starts: its identification string and
// its KEXINIT name-lists, in the order that build sends them. Every algorithm listed here is implemented
// by SSHTransport (and CPacket's dc_ssh.h), so whatever a client picks completes.
//
// References:
//  - debian12: recorded from Debian 12's own sshd (1:9.2p1-2+deb12u10) with ssh-audit -j and a raw KEXINIT
//    capture: Tests/Fixtures/ssh/openssh-9.2p1-debian12.*.json (HASSH-server 425d29fe50d8e4f5e37efb6e24bcf660).
//  - ubuntu22: OpenSSH 8.9p1's compiled-in defaults (myproposal.h 1.70) with Ubuntu's strict-KEX backport
//    (3ubuntu0.6 and later append kex-strict-s-v00@openssh.com), host keys rsa/ecdsa/ed25519 as a stock
//    install generates them: Tests/Fixtures/ssh/openssh-8.9p1-ubuntu22.kexinit.json. No Ubuntu build runs
//    here, so this one is derived from the source, not recorded.

import Fingerprint

public struct SSHPersona: Sendable, Equatable {
    public let slug: String
    /// The identification string without CR LF.
    public let banner: String
    /// DistroProfile slug the fake shell shows (uname, os-release, motd agree with the banner).
    public let distro: String
    public let kex: [String]
    public let hostKeys: [String]
    public let ciphers: [String]
    public let macs: [String]
    public let compression: [String]
    /// EXT_INFO server-sig-algs (RFC 8308), sent when the client offers ext-info-c.
    public let serverSigAlgs: String
    /// Seconds a failed password attempt takes (pam_unix's fail delay on Debian/Ubuntu).
    public let failDelay: Double
    /// sshd's MaxAuthTries.
    public let maxAuthTries: Int
    /// Extensions sftp-server announces in SSH_FXP_VERSION, in order.
    public let sftpExtensions: [(String, String)]

    public static func == (a: SSHPersona, b: SSHPersona) -> Bool { a.slug == b.slug }

    /// OpenSSH 8.7-8.9's sftp-server; 9.0 added copy-data, 9.1 home-directory and users-groups-by-id
    /// (9.2's list measured with `sftp -vvv` against Debian 12's sftp-server).
    static let sftp8: [(String, String)] = [
        ("posix-rename@openssh.com", "1"), ("statvfs@openssh.com", "2"), ("fstatvfs@openssh.com", "2"),
        ("hardlink@openssh.com", "1"), ("fsync@openssh.com", "1"), ("lsetstat@openssh.com", "1"),
        ("limits@openssh.com", "1"), ("expand-path@openssh.com", "1"),
    ]
    static let sftp92 = sftp8 + [("copy-data", "1"), ("home-directory", "1"), ("users-groups-by-id@openssh.com", "1")]

    /// The ten KEXINIT name-lists.
    public var lists: [[String]] { [kex, hostKeys, ciphers, ciphers, macs, macs, compression, compression, [], []] }

    static let macs9 = ["umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
                        "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com", "umac-64@openssh.com",
                        "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1"]
    static let ciphers9 = ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
                           "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]
    /// 9.2p1 (measured: `ssh -v` against Debian 12's sshd prints this server-sig-algs).
    static let sigAlgs92 = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com,ssh-dss,ssh-rsa,rsa-sha2-256,rsa-sha2-512"
    /// 8.x (before key types moved to per-type files in 9.x): RSA and DSA before ECDSA.
    static let sigAlgs8 = "ssh-ed25519,sk-ssh-ed25519@openssh.com,ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ecdsa-sha2-nistp256@openssh.com,webauthn-sk-ecdsa-sha2-nistp256@openssh.com"

    public static let debian12 = SSHPersona(
        slug: "debian12", banner: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", distro: "debian",
        kex: ["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
              "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
              "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
              "diffie-hellman-group14-sha256", "kex-strict-s-v00@openssh.com"],
        hostKeys: ["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"],
        ciphers: ciphers9, macs: macs9, compression: ["none", "zlib@openssh.com"],
        serverSigAlgs: sigAlgs92, failDelay: 2.0, maxAuthTries: 6, sftpExtensions: sftp92)

    public static let ubuntu22 = SSHPersona(
        slug: "ubuntu22", banner: "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10", distro: "ubuntu22",
        kex: ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
              "ecdh-sha2-nistp521", "sntrup761x25519-sha512@openssh.com", "diffie-hellman-group-exchange-sha256",
              "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
              "kex-strict-s-v00@openssh.com"],
        hostKeys: ["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"],
        ciphers: ciphers9, macs: macs9, compression: ["none", "zlib@openssh.com"],
        serverSigAlgs: sigAlgs8, failDelay: 2.0, maxAuthTries: 6, sftpExtensions: sftp8)

    public static let all = [debian12, ubuntu22]

    /// The HASSH-server of the persona's KEXINIT (what the sensor computes for its traffic), once per persona.
    public var hasshServer: HASSH { SSHPersona.hasshServers[slug] ?? SSHPersona.hassh(self) }
    static let hasshServers = Dictionary(uniqueKeysWithValues: all.map { ($0.slug, hassh($0)) })
    static func hassh(_ p: SSHPersona) -> HASSH { HASSH(server: KexInit(lists: p.lists.map { $0.joined(separator: ",") })) }

    public static func named(_ slug: String) -> SSHPersona? { all.first { $0.slug == slug } }

    /// Service key `persona` wins; else the decky's distro: Ubuntu deckies get the Ubuntu build, the rest
    /// the Debian one (the shell then shows the persona's distro so banner and uname agree).
    public static func `for`(_ decky: DeckySpec) -> SSHPersona {
        if let p = decky.config("ssh", "persona"), let named = named(p) { return named }
        return decky.distroProfile.id == "ubuntu" ? ubuntu22 : debian12
    }

    /// "OpenSSH 9.2p1 Debian 2+deb12u10", as nmap prints the product and version.
    public var product: String {
        let soft = banner.dropFirst("SSH-2.0-".count)
        return soft.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
    }
}
