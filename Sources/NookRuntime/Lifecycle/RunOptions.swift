import Glibc
import SystemPackage
import NookCore
import NookKernel
import NookSpec

/// The friendly form of `nook run --rootfs DIR ... -- CMD`: sugar that becomes
/// an OCI `Spec` in memory. After `make()` there is one path for every container;
/// the flags' typed values travel beside the spec (`ParsedSpec`), so this run's
/// plan never parses back what was written into the spec for its record.
package struct RunOptions: Sendable {
    package var rootfs: String
    package var command: [String]
    package var name: String?
    package var volumes: [VolumeSpec] = []
    package var tmpfs: [TmpfsSpec] = []
    /// `KEY=VALUE`, or `KEY` to copy the caller's value.
    package var env: [String] = []
    package var envFiles: [String] = []
    package var workdir: String?
    package var hostname: String?
    package var readOnly = false
    /// `--user UID[:GID]` or names from the rootfs's /etc/passwd and /etc/group.
    package var user: String?
    /// `--userns keep-id`: run as the caller's own uid and gid.
    package var userns: UserNamespaceMode = .auto
    /// `-t`: give the container a pty.
    package var terminal = false
    /// Capabilities, no_new_privs, seccomp, rlimits.
    package var security = SecurityOptions()
    /// cgroup v2 limits (--memory, --pids-limit, --cpus...).
    package var resources = ResourceFlags()
    /// `--network` and `-p`.
    package var network = NetworkSettings()
    /// The root is an overlay mounted at `rootfs` (an image's layers), and
    /// `ownedLayer` the container's own directory of it, removed with it.
    package var rootOverlay: RootOverlay?
    package var ownedLayer: String?
    /// Where `--user` names are looked up (an image's top layer with an
    /// /etc/passwd); nil: the rootfs.
    package var userDatabaseRoot: String?
    /// Environment under -e and --env-file (an image's Env); it may set HOME.
    package var baseEnv: [String] = []
    package var annotations: [String: String] = [:]

    package init(rootfs: String, command: [String]) {
        self.rootfs = rootfs
        self.command = command
    }

    /// The spec alone (what is recorded).
    package func makeSpec(containerID: String, callerEnvironment: [String: String] = [:]) throws -> Spec {
        try make(containerID: containerID, callerEnvironment: callerEnvironment).spec
    }

    /// The spec, and its mounts, rlimits and capabilities as typed values for this run's plan.
    /// - Parameter callerEnvironment: used for `-e KEY` (no value) lookups.
    package func make(containerID: String, callerEnvironment: [String: String] = [:]) throws -> (spec: Spec, parsed: ParsedSpec) {
        guard !command.isEmpty else {
            throw NookError("no command given", hint: "put the command after --, e.g. nook run --rootfs ./rootfs -- sh", kind: .invalidInput)
        }
        // "" would be the current directory.
        guard !rootfs.isEmpty else { throw NookError("--rootfs is empty ('')", hint: "name an unpacked root filesystem, e.g. --rootfs ./rootfs", kind: .invalidInput) }
        let root = try HostPath.absolute(rootfs)
        var spec = SpecDefaults.spec(rootfs: root, args: command, hostname: hostname ?? containerID)
        spec.root?.readonly = readOnly
        if let rootOverlay { spec.mounts?.insert(rootOverlay.ociMount, at: 0) }
        if !annotations.isEmpty || ownedLayer != nil {
            var all = annotations
            all[RootOverlay.ownedLayerAnnotation] = ownedLayer
            spec.annotations = all
        }
        spec.process?.terminal = terminal
        if terminal { spec.process?.env?.append("TERM=xterm") }

        var home = "/root"
        if let user {
            let resolved = try UserLookup(rootfs: userDatabaseRoot ?? root).resolve(user)
            spec.process?.user = Spec.User(uid: resolved.uid, gid: resolved.gid,
                                           additionalGids: resolved.additionalGids.isEmpty ? nil : resolved.additionalGids)
            home = resolved.home
        } else if userns == .keepID {
            let uid = getuid(), gid = getgid()
            let resolved = try UserLookup(rootfs: userDatabaseRoot ?? root).resolve("\(uid)")
            spec.process?.user = Spec.User(uid: uid, gid: gid)
            home = resolved.home
        }
        // podman's choice: a non-root user starts with no effective or permitted
        // capabilities; the bounding set still limits what could be regained.
        try security.apply(to: &spec)
        spec.linux?.resources = try resources.resources()
        let defaults = spec.process?.env ?? []
        spec.process?.env = EnvironmentList.merge(EnvironmentList.merge(defaults, ["HOME=\(home)"]), baseEnv)

        var environment = spec.process?.env ?? []
        for file in envFiles {
            environment = EnvironmentList.merge(environment, try Self.readEnvFile(file, caller: callerEnvironment))
        }
        environment = EnvironmentList.merge(environment, try EnvironmentList.parse(env, caller: callerEnvironment))
        spec.process?.env = environment

        if let workdir {
            guard workdir.hasPrefix("/") else {
                throw NookError("invalid workdir '\(workdir)': it must be an absolute path inside the container", kind: .invalidInput)
            }
            spec.process?.cwd = workdir
        }
        // The defaults' own option strings are parsed here, once; -v and --tmpfs
        // are typed already. The spec gets the same mounts as its record.
        var mounts = (spec.mounts ?? []).filter { !RootOverlay.isRootOverlay($0) }.map(ContainerMount.init(oci:))
        for volume in volumes {
            let path = try HostPath.absolute(volume.source)
            // The one look at the source: the plan and the locked flags use it too.
            guard let source = BindSource.look(path) else {
                throw NookError("bind mount source '\(path)' does not exist",
                                hint: "create it first, or check the spelling of -v \(volume.source):\(volume.destination)", kind: .notFound(.file, name: path))
            }
            mounts.append(volume.mount(source: source))
            spec.mounts?.append(volume.ociMount(absoluteSource: path))
        }
        mounts += tmpfs.map(\.mount)
        spec.mounts?.append(contentsOf: tmpfs.map(\.ociMount))
        try network.apply(to: &spec)
        return (spec, ParsedSpec(mounts: mounts, rlimits: security.ulimits,
                                 capabilities: try security.capabilitySets(isRoot: spec.process?.user.uid == 0)))
    }

    static func readEnvFile(_ path: String, caller: [String: String]) throws -> [String] {
        let label = "--env-file \(path)"
        return try EnvironmentList.parseFile(try HostPath.readBytes(path, as: .envFile, label: label), label: label, caller: caller)
    }
}
