// SSHHostKeys.swift: a decky's SSH host keys (RSA 3072, ECDSA P-256, Ed25519, as `ssh-keygen -A` makes
// them), created once under <artifacts>/.ssh/<decky>/ (mode 0600) and shared by the decky's connections,
// so a restart or a second connection shows the same fingerprints.
import CDecoyCrypto
#if canImport(Glibc)
import Glibc
#endif

final class SSHHostKeys: @unchecked Sendable {
    private var keys: [String: OpaquePointer] = [:]
    private var blobs: [String: [UInt8]] = [:]
    let error: String

    /// <artifacts>/.ssh/<decky> (mode 0700): the decky's host keys and lastlog; created on first use.
    static func directory(decky: String, artifactsDir: String) -> String {
        let dir = artifactsDir + "/.ssh/\(decky)"
        makeDirectories(dir)
        chmod(dir, 0o700)
        return dir
    }

    init(decky: String, artifactsDir: String?) {
        let dir = SSHHostKeys.directory(decky: decky, artifactsDir: artifactsDir ?? TLSContext.scratch)
        var errs: [String] = []
        for (type, file) in [("ssh-rsa", "ssh_host_rsa_key"), ("ecdsa-sha2-nistp256", "ssh_host_ecdsa_key"), ("ssh-ed25519", "ssh_host_ed25519_key")] {
            var err = [CChar](repeating: 0, count: 256)
            guard let k = dc_ssh_hostkey_open("\(dir)/\(file)", type, &err, 256) else { errs.append(cString(err)); continue }
            var blob = [UInt8](repeating: 0, count: 1024)
            let n = dc_ssh_hostkey_blob(k, &blob, blob.count)
            guard n > 0 else { dc_ssh_hostkey_free(k); errs.append("\(type): no public key blob"); continue }
            keys[type] = k
            blobs[type] = Array(blob.prefix(Int(n)))
        }
        error = errs.joined(separator: "; ")
    }

    deinit { for k in keys.values { dc_ssh_hostkey_free(k) } }

    /// The key type behind a host-key algorithm name.
    static func keyType(_ alg: String) -> String {
        alg.hasPrefix("rsa-sha2-") ? "ssh-rsa" : alg
    }

    func has(_ alg: String) -> Bool { keys[SSHHostKeys.keyType(alg)] != nil }

    func blob(_ alg: String) -> [UInt8]? { blobs[SSHHostKeys.keyType(alg)] }

    func sign(_ alg: String, _ data: [UInt8]) -> [UInt8]? {
        guard let k = keys[SSHHostKeys.keyType(alg)] else { return nil }
        var out = [UInt8](repeating: 0, count: 1024)
        let n = dc_ssh_hostkey_sign(k, alg, data, data.count, &out, out.count)
        return n > 0 ? Array(out.prefix(Int(n))) : nil
    }

    static func shared(_ info: DecoySessionInfo) -> SSHHostKeys { shared(decky: info.decky.name, artifactsDir: info.artifactsDir, states: info.states) }

    static func shared(decky: String, artifactsDir: String?, states: DeckyStates) -> SSHHostKeys {
        states.get(decky: decky, service: "ssh-hostkeys") { SSHHostKeys(decky: decky, artifactsDir: artifactsDir) }.value
    }
}

/// OpenSSH's key fingerprint: "SHA256:" + unpadded base64 of SHA-256(blob).
func sshFingerprint(_ blob: some Collection<UInt8>) -> String {
    var d = [UInt8](repeating: 0, count: 64)
    let b = Array(blob)
    _ = dc_ssh_digest(256, b, b.count, &d)
    var s = Base64.encode(Array(d.prefix(32)))
    while s.hasSuffix("=") { s.removeLast() }
    return "SHA256:" + s
}
