import CShims
import Glibc
import NookCore

/// `-t`: the container gets a new pty; this relays it to our own terminal.
/// Our terminal goes into raw mode, so Ctrl-C is a byte that reaches the
/// container's foreground process through its own line discipline, not a
/// signal to Nook. The mode is restored on every way out of `finish()`.
package final class TerminalRelay: @unchecked Sendable {
    package let master: Int32
    /// `-i`: our stdin is copied into the pty.
    package let forwardInput: Bool
    private var saved: termios?

    /// - Parameter master: the pty master the container sent us.
    package init(master: Int32, forwardInput: Bool) {
        self.master = master
        self.forwardInput = forwardInput
        copyWindowSize()
    }

    /// Copies our terminal's size onto the container's pty (and so SIGWINCH reaches its foreground group).
    package func copyWindowSize() {
        guard let size = Self.callerWindowSize() else { return }
        _ = nook_set_winsize(master, size.rows, size.columns)
    }

    /// The size of our terminal (the first of stdin, stdout, stderr that is one), if any.
    package static func callerWindowSize() -> WindowSize? {
        var rows: UInt16 = 0, cols: UInt16 = 0
        for fd: Int32 in [0, 1, 2] where isatty(fd) == 1 {
            if nook_get_winsize(fd, &rows, &cols) == 0 { return WindowSize(rows: rows, columns: cols) }
        }
        return nil
    }

    /// The size a new pty gets in the container before its command starts:
    /// our terminal's when we will relay it (the relay copies it only once
    /// the command runs, too late for one that asks at once), otherwise the
    /// spec's `process.consoleSize` (for a `--console-socket` caller).
    package static func startSize(relayed: Bool, requested: WindowSize?) -> WindowSize? {
        (relayed ? callerWindowSize() : nil) ?? requested
    }

    /// Raw mode on our terminal, if stdin is one.
    package func enterRawMode() {
        guard isatty(0) == 1 else { return }
        var t = termios()
        guard tcgetattr(0, &t) == 0 else { return }
        saved = t
        cfmakeraw(&t)
        tcsetattr(0, TCSANOW, &t)
    }

    package func restore() {
        if var t = saved {
            tcsetattr(0, TCSANOW, &t)
            saved = nil
        }
    }

    deinit {
        restore()
        close(master)
    }
}

/// A terminal's size in character cells.
package struct WindowSize: Sendable, Equatable {
    package var rows: UInt16
    package var columns: UInt16
    package init(rows: UInt16, columns: UInt16) { (self.rows, self.columns) = (rows, columns) }
}
