import ArgumentParser
import Glibc
import NookCore
import NookKernel
import NookRuntime
import NookSpec

@main
struct Nook: ParsableCommand {
    /// runc's global flags, which conmon and containerd pass before the
    /// subcommand's name; `main` hands them to the subcommand's own group.
    @OptionGroup var global: GlobalOptionsOf<BeforeSubcommand>
    /// `nook --root X --version`: what podman and containerd ask a runtime.
    @Flag(name: .customLong("version"), help: "Print the version (as `nook version`).") var version = false

    /// The parser validates every command on the way to the subcommand: this
    /// is where the root's own options are seen.
    func validate() throws { Self.globalsBeforeSubcommand = global }
    nonisolated(unsafe) static var globalsBeforeSubcommand: GlobalOptionsOf<BeforeSubcommand>?

    func run() throws {
        guard version else { throw CleanExit.helpRequest(self) }
        VersionCommand.print(global.over(nil as GlobalOptions?))
    }

    static let configuration = CommandConfiguration(
        commandName: "nook",
        abstract: "A rootless, daemonless container runtime.",
        discussion: """
        Runs containers as an ordinary user, with no daemon and no setuid binary of its own. \
        State lives under $XDG_RUNTIME_DIR/nook (or /tmp/nook-$UID).
        """,
        subcommands: [RunCommand.self, CreateCommand.self, StartCommand.self, StateCommand.self, KillCommand.self,
                      DeleteCommand.self, ListCommand.self, PSCommand.self, ExecCommand.self, SpecCommand.self,
                      StatsCommand.self, PauseCommand.self, ResumeCommand.self, LogsCommand.self, WaitCommand.self,
                      StopCommand.self, RestartCommand.self, RmCommand.self, RootfsCommand.self, PullCommand.self, ImageCommand.self, ImagesCommand.self, RmiCommand.self, UnshareCommand.self,
                      AuditCommand.self, InspectCommand.self, PortCommand.self, VersionCommand.self,
                      MonitorCommand.self, ForwardCommand.self, UnpackLayersCommand.self, RemoveLayersCommand.self,
                      CopyLayersCommand.self, ProbeOverlayCommand.self]
    )

    /// Exit codes follow podman: 125 when Nook itself failed, bad flags included.
    static func main() {
        // An ignored SIGCHLD survives exec: our children (the container, newuidmap,
        // pasta) would be reaped by the kernel, and every wait for them would fail.
        signal(SIGCHLD, SIG_DFL)
        var arguments = Array(CommandLine.arguments.dropFirst())
        // `nook -v` is `nook version` (a short name the root cannot take: `run -v` is a volume).
        if arguments.first == "-v" { arguments[0] = "version" }
        do {
            var command = try parseAsRoot(arguments)
            if var withGlobals = command as? UsesGlobalOptions & ParsableCommand {
                withGlobals.global = withGlobals.global.over(globalsBeforeSubcommand)
                command = withGlobals
            }
            // Errors go to --log from here on (given before the subcommand's
            // name, for one that takes no global options: spec, rootfs, audit).
            errorLogDestination = (command as? UsesGlobalOptions)?.global.logDestination
                ?? globalsBeforeSubcommand?.over(nil as GlobalOptions?).logDestination
            // Our arguments can carry secrets (`-e KEY=VALUE`, host paths), and
            // a container without a PID namespace of its own reads every
            // /proc/PID/cmdline of the host: from here on it shows a title.
            ProcessMemoryLayout.hideArguments(title: "nook " + (type(of: command).configuration.commandName ?? ""))
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
            // Parsing failed: the error goes to a --log given before the
            // subcommand's name too (where conmon and containerd pass it).
            errorLogDestination = errorLogDestination ?? Self.rootOptions(arguments)?.over(nil as GlobalOptions?).logDestination
            // Only once parsing failed: a mistyped command named as such, with the nearest one.
            if let unknown = UnknownCommand.check(arguments) { fail(unknown) }
            let message = fullMessage(for: error)
            writeStandardError("nook: \(message)\n")
            GlobalOptions.log(message)
            Glibc.exit(125)
        }
    }

    /// The global options before the subcommand's name, parsed by the same
    /// parser on their own, for an error of the subcommand's parse.
    static func rootOptions(_ arguments: [String]) -> GlobalOptionsOf<BeforeSubcommand>? {
        let names = Set(configuration.subcommands.compactMap { $0.configuration.commandName })
        // A prefix that does not parse has no log to name: the error stays on stderr.
        return try? GlobalOptionsOf<BeforeSubcommand>.parse(Array(arguments.prefix { !names.contains($0) }))
    }

    static func fail(_ error: NookError) -> Never {
        writeStandardError("nook: \(error)\n")
        GlobalOptions.log(error.description)
        Glibc.exit(error.exitCode)
    }
}

func writeStandardError(_ text: String) {
    _ = text.withCString { write(2, $0, strlen($0)) }
}

/// Options every command accepts (runc's global flags), before the
/// subcommand's name (`BeforeSubcommand`: the root command's group) or after
/// it (`GlobalOptions`: each subcommand's). Two types of one declaration:
/// swift-argument-parser takes one type in both places as inherited, and then
/// refuses `run --root X` next to `run`'s pass-through arguments.
struct GlobalOptionsOf<Place>: ParsableArguments {
    @Option(name: .long, help: "Directory for container state (default: $XDG_RUNTIME_DIR/nook or /tmp/nook-$UID).")
    var root: String?
    @Option(name: .long, help: "Also write errors to this file.") var log: String?
    @Option(name: .customLong("log-format"), help: "text or json (default: text).") var logFormat: String?
    @Flag(name: .customLong("systemd-cgroup"), help: "Accepted for compatibility; Nook manages cgroupfs itself.") var systemdCgroup = false
    @Flag(name: .long, help: .hidden) var debug = false
    // runc's, passed by some callers: accepted and ignored.
    @Option(name: .long, help: .hidden) var rootless: String?
    @Option(name: .long, help: .hidden) var criu: String?

    init() {}

    /// These, and where these say nothing, what was given before the
    /// subcommand's name (nil: nothing was parsed there).
    func over<Earlier>(_ earlier: GlobalOptionsOf<Earlier>?) -> GlobalOptions {
        var merged = GlobalOptions()
        (merged.root, merged.log, merged.logFormat) = (root ?? earlier?.root, log ?? earlier?.log, logFormat ?? earlier?.logFormat)
        (merged.systemdCgroup, merged.debug) = (systemdCgroup || earlier?.systemdCgroup == true, debug || earlier?.debug == true)
        (merged.rootless, merged.criu) = (nil, nil)
        return merged
    }

    func runtime() throws -> Runtime {
        if systemdCgroup {
            writeStandardError("nook: warning: --systemd-cgroup is not supported (no systemd cgroup manager); using cgroupfs\n")
        }
        return try Runtime(stateRoot: root, environment: ProcessEnvironment.current(), monitor: .currentProcess)
    }

    /// Container `id`'s recorded spec, for `SealPolicy` before anything else
    /// happens (and without `runtime()`'s warnings, which the sealed re-exec
    /// would print again). nil when there is none: the command then says so.
    func recordedSpec(_ id: String) -> Spec? {
        // nil: the command itself says the container does not exist
        try? Runtime(stateRoot: root, environment: ProcessEnvironment.current()).loadSpec(id)
    }


    /// Where `log(_:)` writes, from `--log` and `--log-format`.
    var logDestination: (path: String, json: Bool)? { log.map { ($0, logFormat == "json") } }

    /// conmon reads the runtime's errors from --log (json: {"level","msg","time"}).
    static func log(_ message: String) {
        guard let dest = errorLogDestination else { return }
        let line: String
        if dest.json {
            let escaped = message.unicodeScalars.map { c -> String in
                switch c {
                case "\"": return "\\\""
                case "\\": return "\\\\"
                case "\n": return "\\n"
                default:
                    guard c.value < 0x20 else { return String(c) }
                    let hex = String(c.value, radix: 16)
                    return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            }.joined()
            line = "{\"level\":\"error\",\"msg\":\"\(escaped)\"}\n"
        } else {
            line = "nook: \(message)\n"
        }
        // O_NONBLOCK: a FIFO nobody reads must not keep the error from being reported;
        // O_NOFOLLOW: a symlink planted there is not written through.
        let fd = open(dest.path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}

enum BeforeSubcommand {}
enum AfterSubcommand {}
typealias GlobalOptions = GlobalOptionsOf<AfterSubcommand>

/// Where `GlobalOptions.log(_:)` writes (not a static of the generic type: Swift has none).
nonisolated(unsafe) var errorLogDestination: (path: String, json: Bool)?

/// A command that takes the global options; `Nook.main` adds those given
/// before the subcommand's name.
protocol UsesGlobalOptions { var global: GlobalOptions { get set } }
extension MonitorCommand: UsesGlobalOptions {}
extension CreateCommand: UsesGlobalOptions {}
extension DeleteCommand: UsesGlobalOptions {}
extension ExecCommand: UsesGlobalOptions {}
extension InspectCommand: UsesGlobalOptions {}
extension KillCommand: UsesGlobalOptions {}
extension ListCommand: UsesGlobalOptions {}
extension LogsCommand: UsesGlobalOptions {}
extension PSCommand: UsesGlobalOptions {}
extension PauseCommand: UsesGlobalOptions {}
extension PortCommand: UsesGlobalOptions {}
extension RestartCommand: UsesGlobalOptions {}
extension ResumeCommand: UsesGlobalOptions {}
extension RmCommand: UsesGlobalOptions {}
extension RunCommand: UsesGlobalOptions {}
extension StartCommand: UsesGlobalOptions {}
extension StateCommand: UsesGlobalOptions {}
extension StatsCommand: UsesGlobalOptions {}
extension StopCommand: UsesGlobalOptions {}
extension VersionCommand: UsesGlobalOptions {}
extension WaitCommand: UsesGlobalOptions {}
