// LineDiscipline.swift: the cooked-mode tty both login shells share (telnet, and SSH with a pty), as Linux's
// n_tty does it with icanon, echo, echoe, echoctl and echok: a bounded line buffer, erase (DEL or BS) and
// kill (^U) rubbed out on screen, ^C and ^D handed to the caller, CR LF and CR NUL folded into one end of line.
// Control bytes that are not editing keys are neither kept nor echoed (readline would act on them; we don't),
// so a stray tab or arrow key cannot put bytes in a recorded command that the attacker never saw.

struct LineDiscipline {
    enum Input: Equatable {
        /// A whole line (without its end), and whether it reached the length bound.
        case line([UInt8], truncated: Bool)
        /// ^C: the partial line is dropped.
        case interrupt
        /// ^D on an empty line.
        case endOfFile
    }

    let maxLine: Int
    private(set) var line: [UInt8] = []
    private var lastCR = false

    init(maxLine: Int) { self.maxLine = maxLine }

    /// One byte typed. What a tty would echo is appended to `echo` when `echoing` (passwords are not).
    mutating func feed(_ b: UInt8, echoing: Bool, echo: inout [UInt8]) -> Input? {
        if lastCR && (b == 0x0a || b == 0x00) { lastCR = false; return nil }
        lastCR = b == 0x0d
        switch b {
        case 0x0d, 0x0a:
            let l = line
            line.removeAll()
            if echoing { echo += [0x0d, 0x0a] }
            return .line(l, truncated: l.count >= maxLine)
        case 0x7f, 0x08:
            if !line.isEmpty {
                line.removeLast()
                if echoing { echo += [0x08, 0x20, 0x08] }
            }
        case 0x15:
            if echoing {
                echo += Array(repeating: 0x08, count: line.count) + Array(repeating: 0x20, count: line.count)
                    + Array(repeating: 0x08, count: line.count)
            }
            line.removeAll()
        case 0x03:
            line.removeAll()
            return .interrupt
        case 0x04:
            if line.isEmpty { return .endOfFile }
        default:
            if b >= 0x20 && line.count < maxLine {
                line.append(b)
                if echoing { echo.append(b) }
            }
        }
        return nil
    }
}
