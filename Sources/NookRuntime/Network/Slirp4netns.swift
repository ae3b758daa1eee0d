import Glibc
import NookCore
import NookKernel
import NookSpec

/// `--network slirp4netns`: slirp4netns joins the container's user and network
/// namespaces, creates `tap0` there (10.0.2.100/24, gateway 10.0.2.2, DNS
/// 10.0.2.3) and runs QEMU's user-mode stack over ordinary host sockets.
/// Ports are published through its API socket, which lives in the container's
/// 0700 state directory: Nook connects to it; Nook itself never listens.
enum Slirp4netns {
    static let containerAddress = "10.0.2.100"
    static let gateway = "10.0.2.2"
    static let dnsAddress = "10.0.2.3"

    static func arguments(containerPID: pid_t, allowHostLoopback: Bool, mtu: Int, apiSocket: String) -> [String] {
        var args = ["--configure", "--mtu=\(mtu)"]
        // Without this, 10.0.2.2 in the container is the host's 127.0.0.1.
        if !allowHostLoopback { args.append("--disable-host-loopback") }
        args += ["--enable-seccomp", "--api-socket", apiSocket, "--exit-fd", "3", "--ready-fd", "4",
                 "--userns-path=/proc/\(containerPID)/ns/user", "--netns-type=path", "/proc/\(containerPID)/ns/net", "tap0"]
        return args
    }

    static func start(containerPID: pid_t, ports: [PortMapping], allowHostLoopback: Bool, mtu: Int,
                      stateDirectory: String, tracer: Tracer) throws -> NetworkHelper {
        let apiSocket = stateDirectory + "/slirp4netns.sock"
        var exitPipe: [Int32] = [-1, -1], readyPipe: [Int32] = [-1, -1]
        guard Syscall.pipe(&exitPipe) == 0 else { throw NookError.sys("pipe", errno: errno) }
        guard Syscall.pipe(&readyPipe) == 0 else {
            close(exitPipe[0]); close(exitPipe[1])
            throw NookError.sys("pipe", errno: errno)
        }
        defer { close(exitPipe[0]); close(readyPipe[0]); close(readyPipe[1]) }
        let helper: NetworkHelper
        do {
            helper = try NetworkHelper(program: "slirp4netns",
                                       arguments: arguments(containerPID: containerPID, allowHostLoopback: allowHostLoopback,
                                                            mtu: mtu, apiSocket: apiSocket),
                                       passing: [exitPipe[0], readyPipe[1]], stateDirectory: stateDirectory)
        } catch {
            close(exitPipe[1])
            throw error
        }
        helper.exitFD = exitPipe[1]
        helper.ownedFiles = [apiSocket]
        close(readyPipe[1]); readyPipe[1] = -1

        // It writes "1" to the ready fd once tap0 is configured; EOF means it died.
        var pfd = pollfd(fd: readyPipe[0], events: Int16(POLLIN), revents: 0)
        var ready: UInt8 = 0
        if poll(&pfd, 1, 10_000) <= 0 {
            throw helper.failure("did not configure the container's network within 10 s")
        }
        if read(readyPipe[0], &ready, 1) != 1 {
            var status = helper.exited()
            for _ in 0..<100 where status == nil { usleep(1000); status = helper.exited() }
            throw helper.failure("could not set up the network", status: status)
        }
        for port in ports {
            try publish(port, apiSocket: apiSocket, helper: helper)
        }
        tracer.emit("network", "\(helper.commandLine) = pid \(helper.pid)",
                    "a user-mode TCP/IP stack for the container's network namespace"
                        + (ports.isEmpty ? "" : "; ports published with add_hostfwd on its API socket")
                        + (allowHostLoopback ? "; \(gateway) is the host's loopback" : ""))
        return helper
    }

    /// `{"execute": "add_hostfwd", ...}` on the API socket; one request per connection.
    static func publish(_ port: PortMapping, apiSocket: String, helper: NetworkHelper) throws {
        let request = #"{"execute": "add_hostfwd", "arguments": {"proto": "\#(port.proto.rawValue)", "host_addr": "\#(port.hostIP ?? "0.0.0.0")", "host_port": \#(port.hostPort), "guest_addr": "\#(containerAddress)", "guest_port": \#(port.containerPort)}}"#
        let reply = try UnixSocketClient.request(path: apiSocket, request)
        guard reply.contains("\"return\"") else {
            throw NookError("slirp4netns could not publish -p \(port): \(reply.isEmpty ? "no reply" : reply)")
        }
    }
}

/// One request, one reply, over a unix stream socket (a helper's control socket).
enum UnixSocketClient {
    static func request(path: String, _ text: String) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NookError.sys("socket", errno: errno) }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw NookError("socket path too long: \(path)", hint: "use a shorter --root or XDG_RUNTIME_DIR")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw NookError.sys("connect \(path)", errno: errno) }
        let data = Array(text.utf8)
        var sent = 0
        while sent < data.count {
            let n = data[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw NookError.sys("write \(path)", errno: errno) }
            sent += n
        }
        shutdown(fd, Int32(SHUT_WR))
        return HelperProcess.readAll(fd).trimmingCharacters(in: " \n")
    }
}
