// Subprocess.swift: runProgram, posix_spawn of a helper (ip, sysctl) with its output captured.
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program (no shell) and returns its exit status and standard output (stderr discarded).
/// Status -1 means it could not be started (missing binary).
/// `input` is written to its standard input (keep it under a pipe buffer, 64 KiB); `captureStderr` merges
/// standard error into the output (for error messages).
public func runProgram(_ argv: [String], input: String? = nil, captureStderr: Bool = false,
                       maxOutput: Int = 1 << 20) -> (status: Int32, output: String) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return (-1, "") }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var ins: [Int32] = [-1, -1]
    if input != nil {
        guard pipe(&ins) == 0 else { close(fds[0]); close(fds[1]); return (-1, "") }
        _ = fcntl(ins[1], F_SETFD, FD_CLOEXEC)
        posix_spawn_file_actions_adddup2(&actions, ins[0], 0)
        posix_spawn_file_actions_addclose(&actions, ins[0])
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    if captureStderr { posix_spawn_file_actions_adddup2(&actions, fds[1], 2) }
    else { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
    posix_spawn_file_actions_addclose(&actions, fds[1])
    var cargs = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, &cargs, ProcessEnvironment.block)
    close(fds[1])
    if let input {
        close(ins[0])
        if rc == 0 {
            let bytes = Array(input.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { write(ins[1], $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; break }
                off += n
            }
        }
        close(ins[1])
    }
    guard rc == 0 else { close(fds[0]); return (-1, "") }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, 4096) }
        if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
        if out.count < maxOutput { out.append(contentsOf: chunk[0..<n]) }
    }
    close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exited = (status & 0x7f) == 0
    return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), String(decoding: out, as: UTF8.self))
}
