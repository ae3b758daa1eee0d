import ArgumentParser
import Glibc
import NookKit

@main
struct Nook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nook",
        abstract: "A rootless, daemonless container runtime.",
        discussion: """
        Runs containers as an ordinary user, with no daemon and no setuid binary of its own. \
        State lives under $XDG_RUNTIME_DIR/nook (or /tmp/nook-$UID).
        """,
        subcommands: [RunCommand.self, RootfsCommand.self]
    )

    /// Exit codes follow podman: 125 when Nook itself failed, bad flags included.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as NookError {
            fail(error)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            if error is CleanExit { Glibc.exit(code.rawValue) }
            let message = fullMessage(for: error)
            writeStandardError("nook: \(message)\n")
            Glibc.exit(125)
        }
    }

    static func fail(_ error: NookError) -> Never {
        writeStandardError("nook: \(error)\n")
        Glibc.exit(error.exitCode)
    }
}

func writeStandardError(_ text: String) {
    _ = text.withCString { write(2, $0, strlen($0)) }
}

/// Options every command accepts (runc's global flags).
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Directory for container state (default: $XDG_RUNTIME_DIR/nook or /tmp/nook-$UID).")
    var root: String?
}
