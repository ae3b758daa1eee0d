import Glibc
import NookCore
import NookKernel

/// `-p` with `--network none`: Nook's own port forwarder, `nook __forward`
/// (`PortRelay`), instead of a user-mode network stack. The container keeps
/// a network namespace with only its loopback, so it can reach nothing
/// outside; published TCP ports are carried to 127.0.0.1:PORT inside.
///
/// The host ports are bound and listening here, before the forwarder starts:
/// "already in use" is this process's error, and a client that connects
/// before the forwarder runs waits in the listen backlog. (One whose
/// connection finds nothing listening inside is reset, as pasta does: a
/// readiness check must see a connection kept, not only made.) The forwarder
/// gets the container's user and network namespaces as fds opened here (the
/// container is our child, not yet reaped: its pid cannot have been reused).
enum PortForwarder {
    static func start(containerPID: pid_t, ports: [PortMapping], executable: String, stateDirectory: String,
                      tracer: Tracer) throws -> NetworkHelper {
        // In `PortRelay.Descriptor`'s order, from fd 3: user namespace, network namespace, ready pipe, listeners.
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for (path, what) in [("/proc/\(containerPID)/ns/user", "user"), ("/proc/\(containerPID)/ns/net", "network")] {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw NookError.sys("open the container's \(what) namespace (\(path))", path: path, errno: errno) }
            fds.append(fd)
        }
        var ready: [Int32] = [-1, -1]
        guard Syscall.pipe(&ready) == 0 else { throw NookError.sys("pipe for the port forwarder", errno: errno) }
        var readEnd: Int32 = ready[0]
        defer { if readEnd >= 0 { close(readEnd) } }
        fds.append(ready[1])
        for port in ports { fds.append(try port.listening()) }
        let arguments = ["__forward", "--ports", ports.map { String($0.containerPort) }.joined(separator: ",")]
        let helper = try NetworkHelper(program: "nook", path: executable, arguments: arguments, passing: fds,
                                       stateDirectory: stateDirectory)
        helper.drainsOnSIGTERM = true
        // Ours are closed: the forwarder's copies hold the ports, and its end of the pipe.
        for fd in fds { close(fd) }
        fds = []
        // One byte once it is in the namespaces, read when the container's setup is
        // done (`confirmStarted`): it starts meanwhile, and clients wait in the backlog.
        helper.readyFD = readEnd
        readEnd = -1
        tracer.emit("network", "\(executable) \(arguments.joined(separator: " ")) = pid \(helper.pid)",
                    "nook's port forwarder: it holds the host ports (bound before it started), joins the container's user and network namespaces, and carries each connection to 127.0.0.1:PORT inside")
        return helper
    }
}
