import ArgumentParser
import Glibc
import NookCore
import NookKernel
import NookRuntime
import NookSpec

// The detached workflow (`nook run -d`): logs, wait, stop, rm, and the
// hidden per-container monitor.

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a detached container's output.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Keep printing output as it comes, until the container stops.") var follow = false
    @Option(help: "Only the last N lines.") var tail: Int?
    @Argument(help: "Container name.", completion: Completions.containers) var id: String
    func run() throws {
        let runtime = try global.runtime()
        try runtime.printLogs(id: id, follow: follow, tail: tail) { bytes in
            bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
        }
    }
}

struct WaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait for a container to stop; print and return its exit code.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Container name.", completion: Completions.containers) var id: String
    func run() throws {
        let runtime = try global.runtime()
        guard let code = try runtime.waitForExit(id: id) else {
            throw NookError("container '\(id)' stopped without an exit code (its monitor was killed)")
        }
        let state = try? runtime.store.read(id)  // no state: the monitor's status alone is reported
        if let reason = state?.exitReason { Tracer.standardError("nook: container killed: \(reason)") }
        if let reason = state?.restartError { Tracer.standardError("nook: \(reason)") }
        print(code)
        Glibc.exit(code)
    }
}

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a container: TERM, then KILL after a timeout.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .customLong("time")], help: "Seconds to wait before KILL.") var time: Int = 10
    @Argument(help: "Container name.", completion: Completions.containers) var id: String
    func run() throws {
        try global.runtime().stop(id: id, timeout: time)
        print(id)
    }
}

struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart",
                                                    abstract: "Stop a 'run -d' container (TERM, then KILL after a timeout) and start it again.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .customLong("time")], help: "Seconds to wait before KILL.") var time: Int = 10
    @Argument(help: "Container names.", completion: Completions.containers) var ids: [String]
    func run() throws {
        let runtime = try global.runtime()
        for id in ids {
            let state = try runtime.store.read(id)
            guard state.mode == .detached else { try runtime.restartDetached(id: id); continue } // says why not
            guard state.removeOnExit != true else {
                throw NookError("container '\(id)' was started with --rm: stopping it removes it, so it cannot be restarted")
            }
            try runtime.stop(id: id, timeout: time)
            try runtime.restartDetached(id: id)
            print(id)
        }
    }
}

struct RmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a stopped container (-f: kill it first).")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.short, .long], help: "Kill the container if it is running.") var force = false
    @Argument(help: "Container names.") var ids: [String]
    func run() throws {
        let runtime = try global.runtime()
        for id in ids {
            try runtime.delete(id: id, force: force)
            print(id)
        }
    }
}

struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__monitor", abstract: "Supervise one detached container (internal).",
                                                    shouldDisplay: false)
    /// `--root` (always given by `DetachedMonitor.start`) is the global option.
    @OptionGroup var global: GlobalOptions
    @Option var id: String
    @Option(name: .customLong("spec-file")) var specFile: String
    @Option(name: .customLong("notify-fd")) var notifyFD: Int32
    @Flag(name: .customLong("init")) var initProcess = false
    @Flag(name: .customLong("rm")) var remove = false
    @Flag var trace = false
    @Option var bundle: String?
    @Option var restart: String = "no"
    @Flag var restarting = false
    /// With --restarting: the container's incarnation, as `nook start` read it.
    @Option var incarnation: String?
    /// A pidfd of the library caller the container is bound to (`runDetached(boundToCaller:)`).
    @Option(name: .customLong("owner-fd")) var ownerFD: Int32?
    /// The lock of the container's image layer, inherited (`runDetached(layerLock:)`).
    @Option(name: .customLong("layer-lock-fd")) var layerLockFD: Int32?
    /// The container reads our stdin (a library caller's input), not /dev/null.
    @Flag(name: .customLong("stdin")) var stdin = false
    func run() throws {
        // unreadable: runtime.monitor below reads the spec file again and reports the error
        if let spec = try? BundleLoader.decode(try HostPath.readBytes(specFile), source: specFile),
           SealPolicy.monitor(spec, initProcess: initProcess) {
            try SealedBinary.ensure()
        }
        ProcessMemoryLayout.hideArguments(title: "nook __monitor")
        let runtime = try global.runtime()
        Glibc.exit(runtime.monitor(id: id, specFile: specFile, bundle: bundle, notifyFD: notifyFD, initProcess: initProcess,
                                   removeOnExit: remove, restartPolicy: try RestartPolicy.parse(restart),
                                   restarting: restarting, incarnation: incarnation, trace: trace, ownerFD: ownerFD, stdin: stdin,
                                   layerLockFD: layerLockFD))
    }
}
