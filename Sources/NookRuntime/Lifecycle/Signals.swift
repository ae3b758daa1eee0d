import Glibc
import NookCore

/// Signal names as `nook kill` and an image's StopSignal give them: TERM, SIGTERM or 15.
package enum Signals {
    package static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT, "BUS": SIGBUS,
        "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV, "USR2": SIGUSR2, "PIPE": SIGPIPE,
        "ALRM": SIGALRM, "TERM": SIGTERM, "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP,
        "TTIN": SIGTTIN, "TTOU": SIGTTOU, "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM,
        "PROF": SIGPROF, "WINCH": SIGWINCH, "IO": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
    ]

    /// glibc's SIGRTMIN and SIGRTMAX (its threads keep 32 and 33), as podman
    /// reads RTMIN+3, systemd images' StopSignal.
    static let realtimeMin: Int32 = 34, realtimeMax: Int32 = 64

    package static func parse(_ text: String) throws -> Int32 {
        // ASCII only: Unicode's upper case would make "ſ" an S.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            if text.utf8.allSatisfy({ (48...57).contains($0) }), let n = Int32(text), n > 0, n < 65 { return n }
            var name = text.uppercased()
            if name.hasPrefix("SIG") { name.removeFirst(3) }
            if let n = realtime(name) ?? names[name] { return n }
        }
        throw NookError("unknown signal '\(PrintableText.escaped(text))'", hint: "use a name like TERM or SIGKILL, or a number", kind: .invalidInput)
    }

    /// RTMIN, RTMIN+N, RTMAX, RTMAX-N, within the realtime range.
    static func realtime(_ name: String) -> Int32? {
        let base: Int32, sign: Character
        if name.hasPrefix("RTMIN") { (base, sign) = (realtimeMin, "+") } else if name.hasPrefix("RTMAX") { (base, sign) = (realtimeMax, "-") } else { return nil }
        let rest = name.dropFirst(5)
        if rest.isEmpty { return base }
        let digits = rest.dropFirst()
        guard rest.first == sign, !digits.isEmpty, digits.count <= 2, digits.utf8.allSatisfy({ (48...57).contains($0) }), let offset = Int32(digits),
              offset <= realtimeMax - realtimeMin else { return nil }
        return sign == "+" ? base + offset : base - offset
    }
}
