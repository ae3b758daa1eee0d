import ArgumentParser
import Glibc
import NookCore
import NookKernel
import NookRuntime
import NookSpec

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Resource usage of a running container (from its cgroup).")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .customLong("format")], help: "table or json.") var format: String = "table"
    @Argument(help: "Container ID or name.", completion: Completions.containers) var id: String
    func run() throws {
        let stats = try global.runtime().stats(id: id)
        if format == "json" { print(try JSONText.encode(stats, pretty: false)); return }
        print(Table.render([["ID", "MEM USAGE", "MEM PEAK", "MEM LIMIT", "PIDS", "CPU SEC", "THROTTLED"],
                            [stats.id, "\(stats.memoryCurrent)", "\(stats.memoryPeak.map(String.init) ?? "-")",
                             stats.memoryMax, "\(stats.pidsCurrent)", String(Double(stats.cpuUsageMicroseconds) / 1e6),
                             "\(stats.throttledPeriods)"]]))
    }
}

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze every process of a container (cgroup.freeze).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container ID or name.", completion: Completions.containers) var id: String
    func run() throws { try global.runtime().freeze(id: id, true) }
}

struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Thaw a paused container.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container ID or name.", completion: Completions.containers) var id: String
    func run() throws { try global.runtime().freeze(id: id, false) }
}
