import ArgumentParser
import NookCore
import NookKernel
import NookRuntime
import NookSpec

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print what Nook knows of containers as JSON: state, times, exit, mounts, network and ports, limits, config.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .customLong("format")], help: "json (the only format).") var format: String = "json"
    @Argument(help: "Container names.", completion: Completions.containers) var ids: [String]

    func run() throws {
        guard format == "json" else { throw NookError("unknown --format '\(format)'", hint: "inspect prints json", kind: .invalidInput) }
        let runtime = try global.runtime()
        // As podman: every name is looked up before anything is printed.
        let all = try ids.map { try runtime.inspect(id: $0) }
        print(try JSONText.encode(all, pretty: true))
    }
}
