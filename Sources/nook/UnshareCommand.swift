import ArgumentParser
import Glibc
import NookCore
import NookKernel
import NookRuntime

/// `nook unshare [-- CMD...]`: podman unshare's meaning. A shell (or CMD) as
/// root of the user namespace a container of yours gets, with the host's
/// files and the working directory kept: there, files a container or an
/// image layer made with sub-ids are root's to read, change or remove.
struct UnshareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unshare",
        abstract: "Run a command (default: your shell) as root of your containers' user namespace.",
        usage: "nook unshare [-- COMMAND [ARG...]]",
        discussion: """
        The namespace maps you to 0 and your /etc/subuid range from 1, as `nook run` does; \
        it has a mount namespace of its own and sees the host's files. Files owned by your sub-ids \
        (image layers under the image store, a container's writable layer) can be changed or removed there.
        """
    )

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func run() throws {
        var argv = command.first == "--" ? Array(command.dropFirst()) : command
        if argv.isEmpty {
            let shell = ProcessEnvironment.current()["SHELL"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/bin/sh"
            argv = [shell]
        }
        let program = argv[0].contains("/") ? argv[0] : HostPath.findExecutable(argv[0])
        guard let program else {
            throw NookError("'\(PrintableText.escaped(argv[0]))' is not in PATH", hint: "give its full path", exitCode: 127,
                            kind: .commandNotFound(argv[0]))
        }
        Glibc.exit(try UserNamespaceCommand.containerMapping().run(program: program, arguments: argv))
    }
}
