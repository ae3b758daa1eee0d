import ArgumentParser
import Glibc
import NookCore
import NookImageRun
import NookKernel
import NookRuntime
import NookSpec

/// `nook create` in both forms: podman's, `create [OPTIONS] IMAGE [COMMAND...]`,
/// which records a container (as `nook run -d` would, with the same flags and
/// code) for `nook start` to run; and runc's, `create --bundle DIR ID`, which
/// sets a bundle's container up and leaves it waiting for `start` (podman's
/// conmon and containerd call this one, always with --bundle). runc's form
/// without --bundle (the bundle is the current directory) is taken when there
/// is one argument and ./config.json exists.
struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a container from an image ('nook start' runs it) or from an OCI bundle (it waits for 'start').",
        usage: """
        nook create [OPTIONS] IMAGE [COMMAND [ARG...]]
        nook create --bundle DIR [--pid-file FILE] [--console-socket PATH] ID
        """
    )
    @OptionGroup var global: GlobalOptions
    @Option(name: [.short, .long], help: "OCI bundle directory (with config.json): runc's form, with a container ID.") var bundle: String?
    @Option(name: .customLong("pid-file"), help: "With --bundle: write the container's pid here.") var pidFile: String?
    @Option(name: .customLong("console-socket"), help: "With --bundle: Unix socket that receives the pty master (terminal: true).") var consoleSocket: String?
    @Flag(name: .customLong("no-pivot"), help: .hidden) var noPivot = false
    @Flag(name: .customLong("no-new-keyring"), help: .hidden) var noNewKeyring = false
    @OptionGroup var flags: ContainerFlags

    @Argument(parsing: .captureForPassthrough, help: "IMAGE [COMMAND [ARG...]]; ID with --bundle.")
    var arguments: [String] = []

    func run() throws {
        // "Unknown", capitalised as the parser's own: conmon shows it from --log.
        let rest = try ContainerFlags.positional(arguments, of: self, unknown: "Unknown option", hint: "see 'nook create --help'")
        let given = try flags.given()
        let imageOnly = given.filter { !Self.bundleFlags.contains($0) }
        if let bundle {
            guard imageOnly.isEmpty else {
                throw NookError("\(imageOnly.joined(separator: ", ")) cannot go with --bundle: the bundle's config.json describes the container",
                                hint: "change config.json, or drop --bundle to create from an image", kind: .invalidInput)
            }
            return try createFromBundle(bundle, arguments: rest)
        }
        if rest.count == 1 && imageOnly.isEmpty && ImageRun.isRegularFile("config.json") { return try createFromBundle(".", arguments: rest) }
        guard !rest.isEmpty else {
            throw NookError("nook create needs an IMAGE, or --bundle DIR and a container ID", hint: "nook create --name web busybox httpd -f")
        }
        var layer: ImageRun.Layer?
        do { try createFromImage(rest, layer: &layer) } catch {
            // Made for this container, not yet the runtime's to remove (or removed already).
            if let layer { OwnedLayer.remove(layer.directory) }
            throw error
        }
    }

    /// The container flags runc's form takes (conmon passes --preserve-fds).
    static let bundleFlags: Set<String> = ["--preserve-fds", "--trace"]

    /// podman's form: the container `nook run -d` would run, recorded, not started.
    /// The layer's lock is let go when this command ends: the container is in
    /// its state root by then, which keeps its layer from any sweep.
    func createFromImage(_ rest: [String], layer: inout ImageRun.Layer?) throws {
        guard !flags.tty && !flags.interactive else {
            throw NookError("nook create makes a container that 'nook start' runs in the background: -t and -i go with nook run",
                            hint: "once it runs: nook exec -it NAME sh")
        }
        let environment = ProcessEnvironment.current()
        let runtime = try global.runtime()
        let id = flags.name ?? Runtime.generateID()
        let restartPolicy = try RestartPolicy.parse(flags.restart)
        try restartPolicy.check(removeOnExit: flags.remove)  // before the layer is made
        // Kept until `nook rm`, and started again by `nook start`: never a volatile layer.
        let made = try flags.spec(rootfs: nil, arguments: rest, id: id, transient: false, environment: environment,
                                  stateRoot: runtime.store.root, layer: &layer)
        if SealPolicy.run(made.spec, initProcess: flags.`init`, detached: true) { try SealedBinary.ensure() }
        try runtime.createDetached(made.spec, id: id, initProcess: flags.`init`, removeOnExit: flags.remove,
                                   restartPolicy: restartPolicy)
        print(id)
    }

    /// runc's form: `create --bundle DIR ID`.
    func createFromBundle(_ bundle: String, arguments rest: [String]) throws {
        guard rest.count == 1, let id = rest.first else {
            throw NookError("nook create --bundle DIR takes exactly one container ID", hint: "nook create --bundle \(bundle) mycontainer")
        }
        let bundlePath = try HostPath.absolute(bundle)
        let spec = try BundleLoader.load(bundle: bundlePath)
        if SealPolicy.create(spec) { try SealedBinary.ensure() } // its clone sets the container up (SealPolicy)
        let runtime = try global.runtime()
        var settings = Runtime.CreateSettings(bundle: bundlePath)
        settings.pidFile = try pidFile.map(HostPath.absolute)
        settings.consoleSocket = consoleSocket
        settings.preserveFDs = flags.preserveFDs
        settings.trace = flags.trace
        try runtime.create(spec, id: id, settings: settings)
    }
}
