import ArgumentParser
import Glibc
import NookCore
import NookKernel
import NookRuntime
import NookSpec
import FoundationEssentials

// The OCI runtime interface, in runc's syntax, so podman (conmon), containerd
// or CRI-O can drive Nook. Each command is a thin call into NookKit.

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start",
                                                    abstract: "Start a created container, or a stopped 'run -d' one again.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container ID.", completion: Completions.containers) var id: String
    func run() throws {
        let runtime = try global.runtime()
        // A `run -d` container that stopped starts again under a new monitor (podman's
        // `start`); anything else is the OCI start of a created container.
        if let state = try? runtime.store.read(id), state.mode == .detached {
            try runtime.restartDetached(id: id)
            print(id)
            return
        }
        if let spec = global.recordedSpec(id), SealPolicy.start(spec) { try SealedBinary.ensure() }
        try runtime.start(id: id)
    }
}

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "state", abstract: "Print a container's OCI state as JSON.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container ID.", completion: Completions.containers) var id: String
    func run() throws {
        let state = try global.runtime().state(id: id)
        print(try JSONText.encode(state, pretty: true))
    }
}

struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to a container (default TERM).")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Signal every process of the container.") var all = false
    @Argument(help: "Container ID.", completion: Completions.containers) var id: String
    @Argument(help: "Signal: a name (TERM, SIGKILL) or a number.") var signal: String = "TERM"
    func run() throws {
        try global.runtime().kill(id: id, signal: try Signals.parse(signal), all: all)
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove a stopped container (--force: kill it first).")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Kill the container if it is running.") var force = false
    @Argument(help: "Container ID.", completion: Completions.containers) var id: String
    func run() throws {
        let runtime = try global.runtime()
        do { try runtime.delete(id: id, force: force) } catch let e as NookError {
            // runc: deleting a container that does not exist with --force is not an error.
            if force, case .notFound(.container, _) = e.kind { return }
            throw e
        }
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List containers.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .customLong("quiet")], help: "Only IDs.") var quiet = false
    @Option(name: [.short, .customLong("format")], help: "table, json, or a template: '{{.ID}} {{.Status}}' (fields: \(fields.joined(separator: ", "))).")
    var format: String = "table"
    static let fields = ["ID", "Pid", "Status", "Bundle"]

    func run() throws {
        let output = try OutputFormat.parse(format, fields: Self.fields)
        let states = try global.runtime().list()
        if quiet { states.forEach { print($0.id) }; return }
        if output == .json { print(try JSONText.encode(states, pretty: false)); return }
        let rows = states.map { ["ID": $0.id, "Pid": "\($0.pid)", "Status": $0.status, "Bundle": $0.bundle] }
        print(output.render(rows, columns: [("ID", "ID"), ("PID", "Pid"), ("STATUS", "Status"), ("BUNDLE", "Bundle")]))
    }
}

struct PSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers, or the processes of one container.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Include stopped containers.") var all = false
    @Flag(name: [.short, .long], help: "Only names.") var quiet = false
    @Option(name: .customLong("format"), help: "table, json, or a template: '{{.Names}} {{.Status}}' (fields: \(fields.joined(separator: ", "))).")
    var format: String = "table"
    @Option(name: [.short, .customLong("filter")], help: "status=created|running|paused|restarting|stopped, name=[^]PART[$] or id=PREFIX; repeat to combine.")
    var filters: [String] = []
    @Flag(name: .customLong("no-trunc"), help: "Accepted for podman's habit: nook never truncates.") var noTrunc = false
    @Argument(help: "Container ID: list its processes.", completion: Completions.containers) var id: String?
    static let fields = ["Names", "ID", "Status", "State", "Pid", "Mode", "Command", "CreatedAt", "RunningFor", "Ports", "ExitCode"]

    func run() throws {
        let runtime = try global.runtime()
        guard let id else {
            let output = try OutputFormat.parse(format, fields: Self.fields)
            let filter = try ContainerFilter(filters)
            // A filter on status names stopped containers itself: as podman, it implies --all.
            let rows = runtime.summaries().filter { (all || filter.namesStatus || $0.status != "stopped") && filter.matches($0) }
            if quiet { rows.forEach { print($0.id) }; return }
            if output == .json { print(try JSONText.encode(rows, pretty: false)); return }
            let values = rows.map { r -> [String: String] in
                ["Names": r.id, "ID": r.id, "Status": r.describedStatus, "State": r.status, "Pid": "\(r.pid)",
                 "Mode": r.mode, "Command": r.command, "CreatedAt": r.created, "RunningFor": Age.since(r.created),
                 "Ports": r.ports.joined(separator: ", "), "ExitCode": r.exitCode.map(String.init) ?? ""]
            }
            print(output.render(values, columns: [("NAME", "Names"), ("STATUS", "Status"), ("CREATED", "RunningFor"), ("PORTS", "Ports"),
                                                  ("PID", "Pid"), ("MODE", "Mode"), ("COMMAND", "Command")]))
            return
        }
        guard filters.isEmpty, !quiet else {
            throw NookError("--filter and --quiet list containers, not the processes of one", hint: "nook ps --filter name=\(id)", kind: .invalidInput)
        }
        let output = try OutputFormat.parse(format, fields: ["Pid", "Command"])
        runtime.repair(id: id)
        let pids = runtime.processes(of: try runtime.store.read(id))
        if output == .json { print("[" + pids.map(String.init).joined(separator: ",") + "]"); return }
        let rows = pids.map { pid -> [String: String] in
            // the process ended meanwhile: no command line to show
            let cmd = (try? HostPath.readText("/proc/\(pid)/cmdline"))?.split(separator: "\0").joined(separator: " ") ?? ""
            return ["Pid": "\(pid)", "Command": cmd]
        }
        print(output.render(rows, columns: [("PID", "Pid"), ("CMD", "Command")]))
    }
}

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spec", abstract: "Write a config.json for a rootless bundle.")
    @Option(name: [.short, .long], help: "Bundle directory (default: the current directory).") var bundle: String = "."
    @Flag(help: "Rootless (the default; accepted for runc compatibility).") var rootless = false
    func run() throws {
        let path = try HostPath.absolute(bundle) + "/config.json"
        // lstat: a dangling symlink there is something that exists, not a path to write through.
        var st = stat()
        guard lstat(path, &st) != 0 else { throw NookError("'\(path)' already exists", hint: "remove it first") }
        var spec = SpecDefaults.spec(rootfs: "rootfs", args: ["sh"], hostname: "nook")
        spec.process?.terminal = false
        spec.linux?.seccomp = DefaultSeccompProfile.profile(capabilities: Set(SpecDefaults.capabilities)).oci
        try HostPath.writeText(path, try JSONText.encode(spec, pretty: true) + "\n", create: true)
    }
}

enum JSONText {
    static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

enum Table {
    /// Cells are escaped (`PrintableText`): some hold what a container controls.
    /// `escaped`: the cells are printable already (a template filled them).
    static func render(_ raw: [[String]], escaped: Bool = false) -> String {
        let rows = escaped ? raw : raw.map { $0.map(PrintableText.escaped) }
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 3) }.joined()
        }.joined(separator: "\n")
    }
}
