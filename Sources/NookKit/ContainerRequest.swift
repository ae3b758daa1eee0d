import Glibc
import NookCore
import NookImageRun
import NookRuntime
import NookSpec

/// A container to start for a test: a root filesystem, a command, and what
/// else it needs. `start()` runs it detached under its own monitor, bound to
/// this process: if this process dies, even by SIGKILL, the monitor kills
/// the container and removes its state.
///
///     var request = ContainerRequest(rootfs: rootfs, command: ["httpd", "-f", "-p", "80"])
///     request.ports = [80]
///     request.readiness = [.http(port: 80, path: "/")]
///     try await withContainer(request) { web in
///         let port = web.hostPort(for: 80)!   // on 127.0.0.1
///     }
public struct ContainerRequest: Sendable {
    /// An unpacked root filesystem (unused when `image` is set).
    public var rootfs: String
    /// An image in nook's store (`nook pull`, `nook image import`), run as
    /// `nook run IMAGE` runs it: over a container layer of its own (removed
    /// with the container), with the image's Entrypoint, Cmd, Env, WorkingDir
    /// and User. Takes the place of `rootfs`.
    public var image: String?
    /// The program and its arguments, run as the container's init (PATH is
    /// searched inside the container). With an image: replaces its Cmd
    /// (empty: the image's own).
    public var command: [String]
    /// What the container reads on stdin, then end of file (default: nothing,
    /// stdin is /dev/null). The container can read it, never write to it.
    public var stdin: [UInt8]?
    /// `KEY=VALUE`.
    public var environment: [String] = []
    /// Bind mounts, as `-v` takes them: `SOURCE:DESTINATION[:ro]`.
    public var mounts: [String] = []
    /// Container ports to publish on 127.0.0.1, each on a host port the
    /// kernel picks (`ContainerHandle.hostPort(for:)`). With `network`
    /// `.none` (the default), nook's own port forwarder carries them (TCP, at
    /// most ten) and the container reaches nothing else; with `.pasta` or
    /// `.slirp4netns`, that helper publishes them.
    public var ports: [UInt16] = []
    /// `--network`: none (only loopback), pasta, slirp4netns, host.
    public var network: NetworkMode = .none
    /// cgroup limits, as `nook run` takes them (`memory: "64M"`, `pidsLimit`, `cpus`).
    public var limits = ResourceFlags()
    /// What `start()` waits for before it returns (all of them, in order).
    public var readiness: [Readiness] = []
    /// How long `start()` waits for `readiness`.
    public var readinessTimeout: Duration = .seconds(30)
    /// The container's name (default: a generated id).
    public var name: String?
    /// Where state lives (default: `$XDG_RUNTIME_DIR/nook`, or `/tmp/nook-UID`).
    public var stateRoot: String?
    /// The nook binary that runs the container's monitor (default: found, see `MonitorExecutable`).
    public var nookBinary: MonitorExecutable = .locate
    /// The environment used to find things (`NOOK_BINARY`, `PATH`, `XDG_RUNTIME_DIR`).
    public var callerEnvironment: [String: String] = ProcessEnvironment.current()

    /// Where this container's state goes (``ContainerHandle/stateDirectory``
    /// once started): `stateRoot`, or the default, then the name. Nil before
    /// a start when `name` is nil (the id is generated then).
    public var stateDirectory: String? {
        name.map { (stateRoot ?? StateStore.defaultRoot(environment: callerEnvironment)) + "/" + $0 }
    }

    /// A container running `command` in `rootfs`, with every other setting at
    /// its default: no network, no ports, no readiness wait.
    public init(rootfs: String, command: [String]) {
        self.rootfs = rootfs
        self.command = command
    }

    /// A container from `image` (in nook's store), running `command` (empty:
    /// the image's Entrypoint and Cmd), every other setting at its default.
    public init(image: String, command: [String] = []) {
        self.rootfs = ""
        self.image = image
        self.command = command
    }

    /// Starts the container and waits for `readiness`. A container that does
    /// not become ready is removed before the error is thrown.
    public func start() async throws -> ContainerHandle {
        let request = self
        let handle = try await offPool { try request.startDetached() }
        do {
            for condition in readiness { try await handle.waitUntil(condition, timeout: readinessTimeout) }
        } catch {
            await handle.remove()
            throw error
        }
        return handle
    }

    /// The spec (as `nook run --rootfs` or `nook run IMAGE` makes it), then the monitor.
    private func startDetached() throws -> ContainerHandle {
        let runtime = try Runtime(stateRoot: stateRoot, environment: callerEnvironment, monitor: nookBinary)
        let id = name ?? Runtime.generateID()
        try StateStore.validate(id: id)
        var options = RunOptions(rootfs: rootfs, command: command)
        options.name = name
        options.env = environment
        options.volumes = try mounts.map(VolumeSpec.parse)
        options.resources = limits
        let published = try ports.map { try PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: $0).withHostPortChosen() }
        options.network = NetworkSettings(mode: network, ports: published)
        var layer: ImageRun.Layer?
        let started: Runtime.DetachedStart
        do {
            if let image {
                layer = try ImageRun.prepare(&options, image: image, command: command, containerID: id, stateRoot: runtime.store.root,
                                         environment: callerEnvironment, nook: nookBinary)
            }
            let spec = try options.makeSpec(containerID: id, callerEnvironment: callerEnvironment)
            // The monitor inherits the layer's lock and holds it; ours goes with `layer`, at the end of this call.
            started = try runtime.runDetached(spec, id: id, initProcess: false, removeOnExit: false, trace: false,
                                              boundToCaller: true, stdin: stdin, layerLock: layer?.lock.fd ?? -1)
        } catch {
            // Made for this start, not yet the runtime's to remove (or removed already).
            if let layer { OwnedLayer.remove(layer.directory) }
            throw error
        }
        return ContainerHandle(id: id, stateRoot: runtime.store.root, environment: callerEnvironment,
                               monitorPID: started.monitorPID, pid: started.containerPID,
                               ports: Dictionary(published.map { ($0.containerPort, $0.hostPort) }, uniquingKeysWith: { a, _ in a }))
    }
}

/// Starts `request`, runs `body` with its handle, and removes the container
/// afterwards, whether `body` returns, throws or is cancelled.
public func withContainer<T: Sendable>(_ request: ContainerRequest,
                                       _ body: (ContainerHandle) async throws -> T) async throws -> T {
    let handle = try await request.start()
    do {
        let result = try await body(handle)
        await handle.remove()
        return result
    } catch {
        await handle.remove()
        throw error
    }
}
