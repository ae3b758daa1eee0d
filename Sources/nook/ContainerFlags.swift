import ArgumentParser
import NookCore
import NookImageRun
import NookImages
import NookKernel
import NookRuntime
import NookSpec

/// What describes a container, image or rootfs alike: the flags `nook run`
/// and podman's form of `nook create` share (one list, one meaning), and the
/// spec they make.
struct ContainerFlags: ParsableArguments {
    @Option(help: "Name of the container (default: a generated id).") var name: String?
    @Option(name: [.short, .customLong("volume")], help: "Bind mount SRC:DST[:ro].") var volume: [String] = []
    @Option(help: "Mount a tmpfs at DST[:OPTIONS].") var tmpfs: [String] = []
    @Option(name: [.short, .customLong("env")], help: "Set KEY=VALUE (or copy KEY from your environment).") var env: [String] = []
    @Option(name: .customLong("env-file"), help: "Read KEY=VALUE lines from a file.") var envFile: [String] = []
    @Option(help: "With an image: the program to run instead of its Entrypoint (a JSON array for several words); clears its Cmd.")
    var entrypoint: String?
    @Flag(name: [.customShort("P"), .customLong("publish-all")], help: "With an image: publish each port it exposes on a host port the kernel picks.")
    var publishAll = false
    @Option(name: [.short, .customLong("workdir")], help: "Working directory inside the container.") var workdir: String?
    @Option(help: "Hostname inside the container (default: the container id).") var hostname: String?
    @Flag(name: .customLong("read-only"), help: "Mount the root filesystem read-only.") var readOnly = false
    @Flag(help: "Print every isolation step, with its system call and why, to stderr.") var trace = false
    @Flag(name: [.customShort("t"), .customLong("tty")], help: "Give the container a pseudo-terminal.") var tty = false
    @Flag(name: [.customShort("i"), .customLong("interactive")], help: "Keep stdin open (connected to the container).") var interactive = false
    @Flag(help: "Run a minimal init as PID 1 that reaps zombies and forwards signals.") var `init` = false
    @Option(help: "With -d (or create): no, on-failure[:N], always or unless-stopped; the container's own monitor restarts it (never after nook stop, kill or rm).")
    var restart: String = "no"
    @Flag(name: .customLong("rm"), help: "Remove the container when it stops (a foreground run always does).") var remove = false
    @Option(name: [.short, .customLong("user")], help: "Run as UID[:GID] or NAME[:GROUP] (looked up in the rootfs).") var user: String?
    @Option(help: "User namespace mode: auto, keep-id, host (host: real root only).") var userns: String = "auto"
    @Option(name: .customLong("cap-add"), help: "Add a capability (NET_RAW, CAP_SYS_PTRACE, ALL).") var capAdd: [String] = []
    @Option(name: .customLong("cap-drop"), help: "Drop a capability (or ALL).") var capDrop: [String] = []
    @Option(name: .customLong("seccomp-profile"), help: "Seccomp profile file (OCI or Docker JSON).") var seccompProfile: String?
    @Option(help: "Seccomp: 'unconfined' turns the filter off.") var seccomp: String?
    @Option(name: .customLong("security-opt"), help: "no-new-privileges[=false], seccomp=unconfined|FILE.") var securityOpt: [String] = []
    @Option(help: "Resource limit NAME=SOFT[:HARD] (nofile, nproc, core...).") var ulimit: [String] = []
    @Option(name: .customLong("preserve-fds"), help: "Pass fds 3 .. 3+N-1 to the container.") var preserveFDs: Int32 = 0
    @Option(name: [.short, .customLong("memory")], help: "Memory limit (64M, 1g).") var memory: String?
    // .unconditional: "-1" is a value here, not an option (swift-argument-parser
    // otherwise takes it for a short flag and only --memory-swap=-1 works).
    @Option(name: .customLong("memory-swap"), parsing: .unconditional,
            help: "Memory plus swap limit (-1: unlimited; default: twice --memory).") var memorySwap: String?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit (memory.low).") var memoryReservation: String?
    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: "Maximum number of processes (-1: unlimited).") var pidsLimit: Int64?
    @Option(help: "CPUs (cpu.max), e.g. 0.5.") var cpus: String?
    @Option(name: .customLong("cpu-shares"), help: "Relative CPU weight (v1 shares, converted to cpu.weight).") var cpuShares: UInt64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs allowed, e.g. 0-1.") var cpusetCPUs: String?
    @Option(name: .customLong("blkio-weight"), help: "Relative IO weight 10-1000 (io.weight).") var blkioWeight: UInt16?
    @Option(name: .customLong("device-read-bps"), help: "Read rate limit DEVICE:RATE.") var deviceReadBps: [String] = []
    @Option(name: .customLong("device-write-bps"), help: "Write rate limit DEVICE:RATE.") var deviceWriteBps: [String] = []

    @Option(name: [.customLong("network"), .customLong("net")], help: "Network: none (default: only lo), host, pasta[:OPTIONS], slirp4netns[:OPTIONS].", completion: Completions.networks) var network: String = "none"
    @Option(name: [.short, .customLong("publish")], help: "Publish a port: [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]; ranges as 8000-8001:80-81; with no HOSTPORT one is picked (nook port shows it). With --network none, nook itself forwards TCP ports from the host's loopback (give 127.0.0.1:) to the container's; pasta and slirp4netns publish through their own stack.") var publish: [String] = []


    /// The spec of container `id`: over `rootfs`, or (nil) over the image
    /// `arguments[0]` with the command after it. `layer`: an image's container
    /// layer, once made (the caller removes it if what follows fails), with
    /// its lock (held: the caller keeps it, or hands it to the monitor).
    /// `stateRoot`: the runtime's, recorded in the layer.
    /// `transient`: the container is removed when it stops, never started
    /// again (its layer can be volatile: `RootOverlay`).
    func spec(rootfs: String?, arguments rest: [String], id: String, transient: Bool, environment: [String: String],
              stateRoot: String, layer: inout ImageRun.Layer?) throws -> (spec: Spec, parsed: ParsedSpec, network: NetworkSettings) {
        try StateStore.validate(id: id)
        var options = RunOptions(rootfs: rootfs ?? "", command: rest)
        options.name = name
        options.volumes = try volume.map(VolumeSpec.parse)
        options.tmpfs = try tmpfs.map(TmpfsSpec.parse)
        options.env = env
        options.envFiles = envFile
        options.workdir = workdir
        options.hostname = hostname
        options.readOnly = readOnly
        options.user = user
        options.userns = try UserNamespaceMode.parse(userns)
        options.terminal = tty
        var security = SecurityOptions()
        security.capAdd = capAdd
        security.capDrop = capDrop
        for opt in securityOpt { try security.apply(securityOpt: opt) }
        if let seccompProfile { security.seccomp = .file(seccompProfile) }
        switch seccomp {
        case nil: break
        case "unconfined"?: security.seccomp = .unconfined
        case let other?: throw NookError("invalid --seccomp '\(other)'", hint: "use --seccomp unconfined, or --seccomp-profile FILE", kind: .invalidInput)
        }
        security.ulimits = try ulimit.map(ResourceLimit.parse(ulimit:))
        options.security = security
        options.resources = ResourceFlags(memory: memory, memorySwap: memorySwap, memoryReservation: memoryReservation,
                                          pidsLimit: pidsLimit, cpus: cpus, cpuShares: cpuShares, cpusetCPUs: cpusetCPUs,
                                          blkioWeight: blkioWeight, deviceReadBps: deviceReadBps, deviceWriteBps: deviceWriteBps)
        var ports = try publishedPorts()
        if rootfs == nil {
            var command = Array(rest.dropFirst())
            if command.first == "--" { command.removeFirst() }
            let overrides = ImageRunSettings.Overrides(command: command, entrypoint: entrypoint, workdir: workdir, user: user,
                                                       publishAll: publishAll)
            let exposed: [String]
            (layer, exposed) = try ImageRun.prepare(&options, image: rest[0], overrides: overrides, transient: transient,
                                                    containerID: id, stateRoot: stateRoot, environment: environment, trace: trace)
            ports += try exposed.flatMap(PortMapping.parseAll).map { try $0.withHostPortChosen() }
        } else if entrypoint != nil || publishAll {
            throw NookError("--entrypoint and -P go with an image", hint: "with --rootfs, the command after -- is what runs", kind: .invalidInput)
        }
        // `nook run --rootfs` always says which network.
        options.network = NetworkSettings(mode: try NetworkMode.parse(network), ports: ports)
        let made = try options.make(containerID: id, callerEnvironment: environment)
        return (made.spec, made.parsed, options.network)
    }

    /// The arguments after the flags (captured for passthrough): a leading
    /// `--` dropped, `--help` or `-h` a request for `command`'s help, any other
    /// leading option unknown (`unknown 'X'`).
    static func positional(_ arguments: [String], of command: ParsableCommand, unknown: String, hint: String) throws -> [String] {
        var rest = arguments
        if rest.first == "--help" || rest.first == "-h" { throw CleanExit.helpRequest(command) }
        if rest.first == "--" {
            rest.removeFirst()
        } else if let first = rest.first, first.hasPrefix("-") {
            throw NookError("\(unknown) '\(first)'", hint: hint)
        }
        return rest
    }

    /// Every -p, ranges expanded, host ports the kernel is to pick chosen now.
    func publishedPorts() throws -> [PortMapping] {
        try publish.flatMap(PortMapping.parseAll).map { try $0.withHostPortChosen() }
    }
}
