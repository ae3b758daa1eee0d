import ArgumentParser
import Glibc
import NookCore
import NookImageRun
import NookImages
import NookKernel
import NookRuntime
import NookSpec

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new container.",
        usage: """
        nook run [OPTIONS] IMAGE [COMMAND [ARG...]]
        nook run --rootfs DIR [OPTIONS] -- COMMAND [ARG...]
        nook run --bundle DIR ID
        """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Unpacked root filesystem to run in.") var rootfs: String?
    @Option(help: "OCI bundle directory (with config.json).") var bundle: String?
    @Flag(name: [.short, .customLong("detach")], help: "Run in the background under its own monitor; print the ID.") var detach = false
    @OptionGroup var flags: ContainerFlags

    @Argument(parsing: .captureForPassthrough, help: "IMAGE [COMMAND [ARG...]]; -- COMMAND [ARG...] with --rootfs; ID with --bundle.")
    var arguments: [String] = []

    func run() throws {
        var layer: ImageRun.Layer?
        do { try start(layer: &layer) } catch {
            // Made for this run, not yet the runtime's to remove (or removed already).
            if let layer { OwnedLayer.remove(layer.directory) }
            throw error
        }
    }

    /// `layer`: an image's container layer, once made. Its lock is held
    /// until this process exits (a foreground run owns the layer), or
    /// handed to the monitor (`-d`).
    func start(layer: inout ImageRun.Layer?) throws {
        let rest = try ContainerFlags.positional(arguments, of: self, unknown: "unknown option",
                                                 hint: "see 'nook run --help'; put the command after --")
        try TerminalInput.check(tty: flags.tty, interactive: flags.interactive)
        let environment = ProcessEnvironment.current()
        let runtime = try Runtime(stateRoot: global.root, environment: environment, monitor: .currentProcess)
        var settings = Runtime.RunSettings()
        settings.trace = flags.trace
        settings.interactive = flags.interactive
        settings.initProcess = flags.`init`
        settings.userns = try UserNamespaceMode.parse(flags.userns)
        settings.preserveFDs = flags.preserveFDs

        let spec: Spec
        let id: String
        switch (rootfs, bundle) {
        case (nil, nil) where rest.isEmpty:
            throw NookError("nook run needs an IMAGE, --rootfs DIR or --bundle DIR", hint: "nook run busybox sh, or nook run --rootfs ./rootfs -- sh", kind: .invalidInput)
        case (_, nil):
            id = flags.name ?? Runtime.generateID()
            // Removed when it stops, never started again: a foreground run, -d --rm (no --restart with it).
            let made = try flags.spec(rootfs: rootfs, arguments: rest, id: id, transient: !detach || flags.remove,
                                      environment: environment, stateRoot: runtime.store.root, layer: &layer)
            (spec, settings.parsed, settings.network) = (made.spec, made.parsed, made.network)
        case (nil, let bundle?):
            guard rest.count == 1 else {
                throw NookError("nook run --bundle DIR takes exactly one container ID", hint: "nook run --bundle \(bundle) mycontainer", kind: .invalidInput)
            }
            id = rest[0]
            settings.interactive = true
            let bundlePath = try HostPath.absolute(bundle)
            var loaded = try BundleLoader.load(bundle: bundlePath)
            // root.path is relative to the bundle: make it absolute, so the spec
            // means the same wherever it is read (a -d monitor reads a copy).
            if let root = loaded.root?.path, !root.hasPrefix("/") { loaded.root?.path = bundlePath + "/" + root }
            if flags.network != "none" || !flags.publish.isEmpty {
                let settingsFromFlags = NetworkSettings(mode: try NetworkMode.parse(flags.network), ports: try flags.publishedPorts())
                try settingsFromFlags.apply(to: &loaded)
                settings.network = settingsFromFlags
            } else {
                // Without flags, what the config.json's annotations record, if anything.
                settings.network = try NetworkSettings.recorded(in: loaded)
            }
            spec = loaded
            settings.bundle = bundlePath
        case (_?, _?):
            throw NookError("--rootfs and --bundle cannot be used together", kind: .invalidInput)
        }
        if SealPolicy.run(spec, initProcess: flags.`init`, detached: detach) { try SealedBinary.ensure() }
        if detach {
            guard !flags.tty && !flags.interactive else { throw NookError("-d cannot be combined with -t or -i", hint: "attach later with 'nook exec -it \(id) -- sh'", kind: .invalidInput) }
            try runtime.runDetached(spec, id: id, bundle: settings.bundle, initProcess: flags.`init`, removeOnExit: flags.remove,
                                    restartPolicy: try RestartPolicy.parse(flags.restart), trace: flags.trace,
                                    layerLock: layer?.lock.fd ?? -1)
            print(id)
            return
        }
        // --rm in the foreground is what a foreground run does anyway: accepted, as podman users type it.
        if try RestartPolicy.parse(flags.restart) != .no {
            throw NookError("--restart goes with -d", hint: "the container's own monitor restarts it: nook run -d --restart \(flags.restart) ...", kind: .invalidInput)
        }
        let status = try runtime.run(spec, id: id, settings: settings)
        Glibc.exit(status.code)
    }
}
