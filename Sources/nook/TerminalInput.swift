import Glibc
import NookCore
import NookKernel
import NookRuntime
import NookSpec

/// `-it` relays the caller's terminal: with a pipe or a file on stdin there
/// is no terminal to relay, and the end of the input could never reach the
/// container as a terminal's end of file. Refused, as docker does, with what to type.
enum TerminalInput {
    static func check(tty: Bool, interactive: Bool) throws {
        guard tty && interactive && isatty(0) == 0 else { return }
        throw NookError("-it needs a terminal on stdin, and stdin is not one",
                        hint: "to pipe input into the container, use -i without -t", kind: .invalidInput)
    }
}
