import Glibc
import SystemPackage
import NookCore
import NookKernel
import NookSpec

/// The friendly form of `nook run --rootfs DIR ... -- CMD`: sugar that becomes
/// an OCI `Spec` in memory. After `makeSpec()` there is one path for every container.
public struct RunOptions: Sendable {
    public var rootfs: String
    public var command: [String]
    public var name: String?
    public var volumes: [VolumeSpec] = []
    public var tmpfs: [TmpfsSpec] = []
    /// `KEY=VALUE`, or `KEY` to copy the caller's value.
    public var env: [String] = []
    public var envFiles: [String] = []
    public var workdir: String?
    public var hostname: String?
    public var readOnly = false
    /// `--user UID[:GID]` or names from the rootfs's /etc/passwd and /etc/group.
    public var user: String?
    /// `--userns keep-id`: run as the caller's own uid and gid.
    public var userns: UserNamespaceMode = .auto
    /// `-t`: give the container a pty.
    public var terminal = false
    /// Capabilities, no_new_privs, seccomp, rlimits.
    public var security = SecurityOptions()
    /// cgroup v2 limits (--memory, --pids-limit, --cpus...).
    public var resources = ResourceFlags()
    /// `--network` and `-p`.
    public var network = NetworkSettings()

    public init(rootfs: String, command: [String]) {
        self.rootfs = rootfs
        self.command = command
    }

    /// - Parameter callerEnvironment: used for `-e KEY` (no value) lookups.
    public func makeSpec(containerID: String, callerEnvironment: [String: String] = [:]) throws -> Spec {
        guard !command.isEmpty else {
            throw NookError("no command given", hint: "put the command after --, e.g. nook run --rootfs ./rootfs -- sh")
        }
        // "" would be the current directory.
        guard !rootfs.isEmpty else { throw NookError("--rootfs is empty ('')", hint: "name an unpacked root filesystem, e.g. --rootfs ./rootfs") }
        let root = try HostPath.absolute(rootfs)
        var spec = SpecDefaults.spec(rootfs: root, args: command, hostname: hostname ?? containerID)
        spec.root?.readonly = readOnly
        spec.process?.terminal = terminal
        if terminal { spec.process?.env?.append("TERM=xterm") }

        var home = "/root"
        if let user {
            let resolved = try UserLookup(rootfs: root).resolve(user)
            spec.process?.user = Spec.User(uid: resolved.uid, gid: resolved.gid,
                                           additionalGids: resolved.additionalGids.isEmpty ? nil : resolved.additionalGids)
            home = resolved.home
        } else if userns == .keepID {
            let uid = getuid(), gid = getgid()
            let resolved = try UserLookup(rootfs: root).resolve("\(uid)")
            spec.process?.user = Spec.User(uid: uid, gid: gid)
            home = resolved.home
        }
        // podman's choice: a non-root user starts with no effective or permitted
        // capabilities; the bounding set still limits what could be regained.
        try security.apply(to: &spec)
        spec.linux?.resources = try resources.resources()
        let baseEnv = spec.process?.env ?? []
        spec.process?.env = EnvironmentList.merge(baseEnv, ["HOME=\(home)"])

        var environment = spec.process?.env ?? []
        for file in envFiles {
            environment = EnvironmentList.merge(environment, try Self.readEnvFile(file, caller: callerEnvironment))
        }
        environment = EnvironmentList.merge(environment, try EnvironmentList.parse(env, caller: callerEnvironment))
        spec.process?.env = environment

        if let workdir {
            guard workdir.hasPrefix("/") else {
                throw NookError("invalid workdir '\(workdir)': it must be an absolute path inside the container")
            }
            spec.process?.cwd = workdir
        }
        for volume in volumes {
            let source = try HostPath.absolute(volume.source)
            guard HostPath.exists(source) else {
                throw NookError("bind mount source '\(source)' does not exist",
                                hint: "create it first, or check the spelling of -v \(volume.source):\(volume.destination)")
            }
            spec.mounts?.append(volume.ociMount(absoluteSource: source))
        }
        spec.mounts?.append(contentsOf: tmpfs.map(\.ociMount))
        try network.apply(to: &spec)
        return spec
    }

    static func readEnvFile(_ path: String, caller: [String: String]) throws -> [String] {
        let label = "--env-file \(path)"
        return try EnvironmentList.parseFile(try HostPath.readBytes(path, as: .envFile, label: label), label: label, caller: caller)
    }
}
