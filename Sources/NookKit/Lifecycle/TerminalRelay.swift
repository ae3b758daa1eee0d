import CShims
import Glibc

/// `-t`: the container gets a new pty; this relays it to our own terminal.
/// Our terminal goes into raw mode, so Ctrl-C is a byte that reaches the
/// container's foreground process through its own line discipline, not a
/// signal to Nook. The mode is restored on every way out of `finish()`.
public final class TerminalRelay: @unchecked Sendable {
    public let master: Int32
    public let slave: Int32
    /// `-i`: our stdin is copied into the pty.
    public let forwardInput: Bool
    private var saved: termios?

    public init(forwardInput: Bool) throws {
        var m: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        guard nook_open_pty(&m, &name, name.count) == 0 else { throw NookError.sys("open a pty (/dev/ptmx)", errno: errno) }
        master = m
        let path = String(cString: name)
        slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            let e = errno
            close(m)
            throw NookError.sys("open pty '\(path)'", errno: e)
        }
        self.forwardInput = forwardInput
        copyWindowSize()
    }

    /// Copies our terminal's size onto the container's pty (and so SIGWINCH reaches its foreground group).
    public func copyWindowSize() {
        var rows: UInt16 = 0, cols: UInt16 = 0
        for fd: Int32 in [0, 1, 2] where isatty(fd) == 1 {
            if nook_get_winsize(fd, &rows, &cols) == 0 {
                _ = nook_set_winsize(master, rows, cols)
                return
            }
        }
    }

    /// Raw mode on our terminal, if stdin is one.
    public func enterRawMode() {
        guard isatty(0) == 1 else { return }
        var t = termios()
        guard tcgetattr(0, &t) == 0 else { return }
        saved = t
        cfmakeraw(&t)
        tcsetattr(0, TCSANOW, &t)
    }

    public func restore() {
        if var t = saved {
            tcsetattr(0, TCSANOW, &t)
            saved = nil
        }
    }

    /// The container side is no longer ours once the child has it.
    public func closeSlave() { close(slave) }

    deinit {
        restore()
        close(master)
    }
}
