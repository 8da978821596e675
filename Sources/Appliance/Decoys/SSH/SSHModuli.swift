// SSHModuli.swift: the groups diffie-hellman-group-exchange-sha256 offers (RFC 4419), chosen as sshd
// chooses them: from /etc/ssh/moduli (safe primes written by `ssh-keygen -M`) when the appliance has it,
// among the moduli whose size lies in the client's [min, max], those of the smallest size above n (else the
// largest), one of them at random. A fixed group on every connection would set the decoy apart from a real
// sshd; without a moduli file the RFC 3526 MODP groups stand in (sshd's own fallback is RFC 3526 too).
import CDecoyCrypto
#if canImport(Glibc)
import Glibc
#endif

struct SSHModuli: Sendable {
    struct Group: Sendable, Equatable { let bits: Int; let generator: UInt32; let prime: [UInt8] }
    let groups: [Group]
    let source: String

    static let shared = SSHModuli.load(path: "/etc/ssh/moduli")

    /// Parses a moduli file: "time type tests tries size generator modulus", size = bits - 1, type 2 = safe
    /// prime. Bad lines are skipped; an unreadable or empty file means the RFC 3526 groups.
    static func load(path: String, maxBytes: Int = 4 << 20) -> SSHModuli {
        var groups: [Group] = []
        if let text = readSmallFile(path, maxBytes: maxBytes) {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let f = line.split(separator: " ")
                guard f.count == 7, f[1] == "2", let size = Int(f[4]), let gen = UInt32(f[5]), gen >= 2,
                      (1023...8191).contains(size), let prime = hexBytes(f[6]), prime.count * 8 == size + 1 else { continue }
                groups.append(Group(bits: size + 1, generator: gen, prime: prime))
            }
        }
        if !groups.isEmpty { return SSHModuli(groups: groups, source: path) }
        var fallback: [Group] = []
        for bits in [2048, 3072, 4096, 6144, 8192] {
            var p = [UInt8](repeating: 0, count: bits / 8)
            if dc_ssh_dh_prime(Int32(bits), &p, p.count) == bits / 8 { fallback.append(Group(bits: bits, generator: 2, prime: p)) }
        }
        return SSHModuli(groups: fallback, source: "RFC 3526")
    }

    /// sshd's choose_dh: sizes within [min, max]; the best is the smallest above n, else the largest.
    func choose(min: UInt32, n: UInt32, max: UInt32) -> Group? {
        var best = 0
        for g in groups where g.bits >= Int(min) && g.bits <= Int(max) {
            if (g.bits > Int(n) && (best == 0 || g.bits < best)) || (g.bits > best && best < Int(n)) { best = g.bits }
        }
        let pool = groups.filter { $0.bits == best }
        guard !pool.isEmpty else { return nil }
        var r: UInt32 = 0
        _ = dc_random_bytes(&r, 4)
        return pool[Int(r % UInt32(pool.count))]
    }
}

private func hexBytes(_ s: Substring) -> [UInt8]? {
    let u = Array(s.utf8)
    guard u.count % 2 == 0 else { return nil }
    func v(_ c: UInt8) -> UInt8? {
        switch c { case 48...57: return c - 48; case 65...70: return c - 55; case 97...102: return c - 87; default: return nil }
    }
    var out = [UInt8](); out.reserveCapacity(u.count / 2)
    var i = 0
    while i < u.count { guard let a = v(u[i]), let b = v(u[i + 1]) else { return nil }; out.append(a << 4 | b); i += 2 }
    return out
}

private func readSmallFile(_ path: String, maxBytes: Int) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out = [UInt8](), buf = [UInt8](repeating: 0, count: 65_536)
    while out.count <= maxBytes {
        let n = read(fd, &buf, buf.count)
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { break }
        out += buf.prefix(n)
    }
    return out.count > maxBytes ? nil : String(decoding: out, as: UTF8.self)
}
