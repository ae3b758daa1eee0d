import ArgumentParser
import Glibc
import NookCore
import NookKernel
import NookRuntime
import NookSpec
import FoundationEssentials

struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Run a process in a running container.",
        usage: "nook exec [OPTIONS] ID -- COMMAND [ARG...]\n  nook exec --process process.json ID")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .customLong("process")], help: "OCI process JSON instead of a command.") var processFile: String?
    @Flag(name: [.short, .long], help: "Do not wait for the process.") var detach = false
    @Option(name: .customLong("pid-file"), help: "Write the new process's pid here.") var pidFile: String?
    @Flag(name: [.customShort("t"), .customLong("tty")], help: "Give the process a pseudo-terminal.") var tty = false
    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Keep stdin open.") var interactive = false
    @Option(name: .customLong("console-socket"), help: "Unix socket that receives the pty master.") var consoleSocket: String?
    @Option(name: [.short, .customLong("env")], help: "Set KEY=VALUE (or copy KEY from your environment).") var env: [String] = []
    @Option(name: .customLong("cwd"), help: "Working directory inside the container.") var cwd: String?
    @Option(name: [.short, .customLong("user")], help: "UID[:GID] or NAME[:GROUP].") var user: String?
    @Flag(help: "Print every step to stderr.") var trace = false
    @Argument(parsing: .captureForPassthrough, help: "ID, then -- COMMAND [ARG...].") var arguments: [String] = []

    func run() throws {
        var rest = arguments
        if rest.first == "--help" || rest.first == "-h" { throw CleanExit.helpRequest(self) }
        if consoleSocket == nil { try TerminalInput.check(tty: tty, interactive: interactive) }
        guard !rest.isEmpty, !rest[0].hasPrefix("-") else {
            throw NookError("nook exec needs a container ID", hint: "nook exec ID -- COMMAND", kind: .invalidInput)
        }
        let id = rest.removeFirst()
        if rest.first == "--" { rest.removeFirst() }
        if let spec = global.recordedSpec(id), SealPolicy.exec(spec) { try SealedBinary.ensure() }
        let runtime = try global.runtime()
        let process: Spec.Process
        if let processFile {
            let bytes = try HostPath.readBytes(processFile, as: .processJSON, label: "--process \(processFile)")
            process = try SpecDecoder.decodeJSON(Spec.Process.self, from: bytes, what: "process file \(processFile)")
        } else {
            guard !rest.isEmpty else { throw NookError("no command given", hint: "nook exec \(id) -- sh", kind: .invalidInput) }
            // `-e KEY` copies the caller's value: a secret need not be on the command line.
            process = try runtime.execProcess(id: id, args: rest, env: try EnvironmentList.parse(env, caller: ProcessEnvironment.current()),
                                              cwd: cwd, user: user, terminal: tty)
        }
        var settings = Runtime.ExecSettings()
        settings.detach = detach
        settings.pidFile = try pidFile.map(HostPath.absolute)
        settings.consoleSocket = consoleSocket
        // OCI callers (conmon) hand us the stdio they want the process to have.
        settings.interactive = interactive || processFile != nil || detach
        settings.trace = trace
        if let status = try runtime.exec(id: id, process: process, settings: settings) {
            Glibc.exit(status.code)
        }
    }
}
