// Passwords.swift: bcrypt (cost 12, spec §10.2) through the system's libxcrypt. Passwords longer than 72
// UTF-8 bytes are refused rather than silently truncated (bcrypt ignores the rest), and NUL bytes are
// refused (C strings would cut there). Hashing takes ~0.25 s at cost 12: run it off any event loop.
import CDecnetSystem

public enum PasswordError: Error, Equatable, CustomStringConvertible {
    case tooLong, containsNUL, tooShort(Int), notPrintableASCII, hashingFailed
    public var description: String {
        switch self {
        case .tooLong: return "password is longer than 72 bytes"
        case .containsNUL: return "password contains a NUL byte"
        case .tooShort(let n): return "password must be at least \(n) characters"
        case .notPrintableASCII: return "password must be printable ASCII (space to ~)"
        case .hashingFailed: return "password hashing failed"
        }
    }
}

public enum Passwords {
    public static let cost = 12
    public static let maxBytes = 72
    public static let minLength = 12

    /// The characters a password may hold (the API's schema pattern): printable ASCII, so the 72-byte bcrypt
    /// limit is also a 72-character limit that a JSON schema can state.
    public static let pattern = "^[ -~]*$"

    /// What a new password must satisfy (login checks only the byte limit).
    public static func checkNew(_ p: String) throws(PasswordError) {
        try checkBytes(p)
        if !p.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7e }) { throw .notPrintableASCII }
        if p.count < minLength { throw .tooShort(minLength) }
    }

    static func checkBytes(_ p: String) throws(PasswordError) {
        if p.utf8.count > maxBytes { throw .tooLong }
        if p.utf8.contains(0) { throw .containsNUL }
    }

    public static func hash(_ p: String, cost: Int = Passwords.cost) throws(PasswordError) -> String {
        try checkBytes(p)
        var out = [CChar](repeating: 0, count: 128)
        guard cs_bcrypt_hash(p, Int32(cost), &out, out.count) == 0 else { throw .hashingFailed }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// False for a wrong password, an over-long one, or a hash that is not bcrypt.
    public static func verify(_ p: String, hash: String) -> Bool {
        guard p.utf8.count <= maxBytes, !p.utf8.contains(0) else { return false }
        return cs_bcrypt_verify(p, hash) == 1
    }
}
