// Console.swift: whole lines to standard output and standard error, written to the descriptors directly (the
// C `stdout`/`stderr` globals are not concurrency-safe in Swift 6, and a daemon's lines must not interleave).
#if canImport(Glibc)
import Glibc
#endif

/// One line to standard error.
public func stderrLine(_ s: String) { writeLine(2, s) }

/// One line to standard output (unbuffered: a supervisor or a test reading it sees it at once).
public func stdoutLine(_ s: String) { writeLine(1, s) }

private func writeLine(_ fd: Int32, _ s: String) {
    var l = s + "\n"
    l.withUTF8 { b in
        var off = 0
        while off < b.count {
            let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            off += n
        }
    }
}
