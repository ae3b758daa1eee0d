import CShims
import Glibc
import NookCore

/// Nook's own port forwarder (`nook __forward`): published ports of a
/// container whose network is only its loopback (`--network none`).
///
/// The listening sockets are made by the parent in the host's network
/// namespace and inherited; this process then joins the container's user and
/// network namespaces (as rootlesskit's builtin port driver does), so every
/// socket it makes from then on is inside: each accepted connection is
/// carried to 127.0.0.1:PORT there, byte for byte, half-closes and resets
/// included. It parses nothing it relays, keeps no capability, cannot be
/// ptraced from the container (not dumpable, exec'd in the host's user
/// namespace), and dies with its parent (PR_SET_PDEATHSIG). SIGTERM (the
/// container has ended) closes the ports and ends it once the container's
/// last bytes are out; a second SIGTERM (that took too long) resets the
/// connections still open, so their clients see the end as cut short.
package enum PortRelay {
    /// The forwarder's fds, in the order `PortForwarder` passes them (after
    /// stdio): the container's user and network namespaces, the pipe that hears
    /// "ready", then one listening socket per port.
    package enum Descriptor {
        package static let userNamespace: Int32 = 3
        package static let networkNamespace: Int32 = 4
        package static let ready: Int32 = 5
        package static let firstListener: Int32 = 6
    }
    /// A helper gets at most 16 fds (`HelperProcess`): the six above leave ten listeners.
    package static let maxPorts = 10
    /// Connections carried at once, whatever the fd limit allows; more wait in the listen backlog.
    static let connectionCeiling = 1024
    /// Slots each port keeps for itself, so that clients of one port cannot take another's.
    static let reservedPerPort = 16
    /// Bytes buffered per direction of one connection, allocated when it first carries data.
    static let bufferSize = 64 * 1024
    /// How long a side's reset waits for the bytes sent before it to reach the other side.
    static let resetFlushSeconds = 2.0

    /// Joins the namespaces, says so on `readyFD`, and relays for ever.
    /// `listeners[i]` forwards to 127.0.0.1:`ports[i]` in the container.
    /// Returns only on a failure before relaying (the caller exits).
    package static func run(userNamespaceFD: Int32, networkNamespaceFD: Int32, readyFD: Int32,
                            listeners: [Int32], ports: [UInt16]) -> NookError {
        signal(SIGPIPE, SIG_IGN)
        _ = nook_set_process_name("nook-forward")  // /proc/PID/comm: what ps and the tests see
        // Not dumpable: a process in the container's user namespace could otherwise ptrace us once we join it.
        guard nook_set_dumpable(0) == 0 else { return NookError.sys("prctl(PR_SET_DUMPABLE, 0)", errno: errno) }
        FaultPoint.reached("forward.joining")
        // The user namespace first: it gives the right to join the network namespace it owns.
        guard nook_setns_user(userNamespaceFD) == 0 else {
            return NookError.sys("setns(CLONE_NEWUSER) into the container's user namespace", errno: errno)
        }
        guard nook_setns_net(networkNamespaceFD) == 0 else {
            return NookError.sys("setns(CLONE_NEWNET) into the container's network namespace", errno: errno)
        }
        close(userNamespaceFD)
        close(networkNamespaceFD)
        // Joining the user namespace gave every capability in it; relaying needs none.
        guard nook_drop_all_capabilities() == 0 else { return NookError.sys("drop capabilities (capset)", errno: errno) }
        for fd in listeners { _ = nook_fcntl_setfl(fd, nook_fcntl_getfl(fd) | O_NONBLOCK) }
        // SIGTERM, read in the loop: the container has ended, deliver what it wrote and exit.
        _ = BlockedSignals([SIGTERM])
        var term: [Int32] = [SIGTERM]
        let termFD = nook_signalfd(&term, 1)
        guard termFD >= 0 else { return NookError.sys("signalfd", errno: errno) }
        var ok: UInt8 = 1
        _ = write(readyFD, &ok, 1)
        close(readyFD)
        var relay = Relay(listeners: listeners, ports: ports, termFD: termFD, maxConnections: connectionLimit())
        relay.loop()
    }

    /// Two fds a connection: as many as the soft fd limit allows once raised to
    /// the hard one (the caller's soft limit may be low), up to the ceiling.
    static func connectionLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 256 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let usable = limit.rlim_cur == rlim_t.max ? connectionCeiling : (Int(clamping: limit.rlim_cur) - 32) / 2
        return max(1, min(connectionCeiling, usable))
    }

    /// One host connection and its connection inside the container.
    private final class Connection {
        let client: Int32
        let server: Int32
        /// Which published port (its index).
        let port: Int
        var connecting = true
        /// client -> server, server -> client
        var up = Pipe()
        var down = Pipe()
        /// Broken on one side: the other gets a reset, not an end of file that would pass for a whole answer.
        var aborted = false
        /// A side reset: when the bytes it sent before are out (or this passes), the other is reset too.
        var resetDeadline: Double?

        init(client: Int32, server: Int32, port: Int) { (self.client, self.server, self.port) = (client, server, port) }
        deinit {
            if aborted {
                var reset = linger(l_onoff: 1, l_linger: 0)
                for fd in [client, server] { setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size)) }
            }
            close(client)
            close(server)
        }

        var finished: Bool { up.shutDown && down.shutDown }
        /// Everything the container's side sent has reached the client, end of file included.
        var delivered: Bool { down.shutDown }
    }

    /// Bytes read from one socket and not yet written to the other.
    private struct Pipe {
        var buffer: [UInt8] = []
        var start = 0
        var end = 0
        /// The reading side said end of file (or was reset: `readReset`).
        var readEOF = false
        /// The reading side was reset (or failed) after what was read.
        var readReset = false
        /// The writing side was reset (or failed): what is buffered for it is dropped.
        var writeReset = false
        /// The writing side was shut down for writes (EOF passed on).
        var shutDown = false

        var isEmpty: Bool { start == end }
        var hasRoom: Bool { end < PortRelay.bufferSize }
        var wantsRead: Bool { !readEOF && !writeReset && hasRoom }
        /// All read (to the end of file or the reset) and all written.
        var done: Bool { readEOF && isEmpty }

        mutating func read(from fd: Int32) {
            if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: PortRelay.bufferSize) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + end, $0.count - end, 0) }
            if n > 0 { end += n; return }
            if n == 0 { readEOF = true; return }
            if errno != EAGAIN && errno != EINTR { (readEOF, readReset) = (true, true) }
        }

        mutating func write(to fd: Int32) {
            if !isEmpty && !writeReset {
                let n = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + start, end - start, Int32(MSG_NOSIGNAL)) }
                if n >= 0 {
                    start += n
                } else if errno != EAGAIN && errno != EINTR {
                    (writeReset, readEOF) = (true, true)
                    start = end
                }
                if start == end { (start, end) = (0, 0) }
            }
            if isEmpty && readEOF && !readReset && !writeReset && !shutDown {
                shutdown(fd, Int32(SHUT_WR))
                shutDown = true
            }
        }
    }

    private struct Relay {
        let listeners: [Int32]
        let ports: [UInt16]
        let termFD: Int32
        let maxConnections: Int
        /// Slots each port keeps while it uses fewer: the others' clients cannot take them.
        let reserve: Int
        var connections: [Connection] = []
        /// Connections of each port.
        var perPort: [Int]
        /// After SIGTERM: no new connection; exit once each has delivered the container's bytes.
        var draining = false
        /// Out of fds (EMFILE): the ports are not polled until a connection ends, or for 100 ms.
        var starved = false

        init(listeners: [Int32], ports: [UInt16], termFD: Int32, maxConnections: Int) {
            (self.listeners, self.ports, self.termFD, self.maxConnections) = (listeners, ports, termFD, maxConnections)
            perPort = Array(repeating: 0, count: ports.count)
            reserve = min(PortRelay.reservedPerPort, maxConnections / (2 * max(1, ports.count)))
        }

        /// Whether port `i` may take one more connection: the total stays below
        /// the limit with every other port's unused reserve still free.
        func accepts(_ i: Int) -> Bool {
            guard !draining && !starved else { return false }
            let othersReserved = perPort.indices.reduce(0) { $1 == i ? $0 : $0 + max(0, reserve - perPort[$1]) }
            return connections.count + othersReserved < maxConnections
        }

        mutating func loop() -> Never {
            var fds: [pollfd] = []
            while true {
                if draining {
                    // Not yet connected inside: reset, not an empty answer that ends cleanly.
                    for c in connections where c.connecting { c.aborted = true }
                    remove { $0.delivered || $0.connecting }
                    if connections.isEmpty { exit(0) }
                }
                fds.removeAll(keepingCapacity: true)
                fds.append(pollfd(fd: termFD, events: Int16(POLLIN), revents: 0))
                for (i, fd) in listeners.enumerated() { fds.append(pollfd(fd: accepts(i) ? fd : -1, events: Int16(POLLIN), revents: 0)) }
                for c in connections {
                    // Two pollfds a connection, the client's first. An fd with nothing
                    // wanted is left out (-1): its POLLHUP would wake us at once, for ever.
                    if c.connecting {
                        // The client only for its hang-up (events 0: POLLHUP and POLLERR come anyway).
                        fds.append(pollfd(fd: c.client, events: 0, revents: 0))
                        fds.append(pollfd(fd: c.server, events: Int16(POLLOUT), revents: 0))
                        continue
                    }
                    var clientEvents: Int32 = 0, serverEvents: Int32 = 0
                    if c.up.wantsRead { clientEvents |= Int32(POLLIN) }
                    if !c.up.isEmpty { serverEvents |= Int32(POLLOUT) }
                    if c.down.wantsRead { serverEvents |= Int32(POLLIN) }
                    if !c.down.isEmpty { clientEvents |= Int32(POLLOUT) }
                    fds.append(pollfd(fd: clientEvents == 0 ? -1 : c.client, events: Int16(clientEvents), revents: 0))
                    fds.append(pollfd(fd: serverEvents == 0 ? -1 : c.server, events: Int16(serverEvents), revents: 0))
                }
                // A reset waiting for a send queue to empty has no event to wake us: look again in 10 ms.
                let timeout: Int32 = connections.contains { $0.resetDeadline != nil } ? 10 : starved ? 100 : -1
                guard poll(&fds, nfds_t(fds.count), timeout) >= 0 else {
                    if errno == EINTR { continue }
                    fatal("poll", errno)
                }
                starved = false
                // Connections first (their pollfds follow the signalfd's and the listeners'); new ones are added after.
                let base = 1 + listeners.count
                for (i, c) in connections.enumerated() {
                    if !service(c, clientEvents: fds[base + 2 * i].revents, serverEvents: fds[base + 2 * i + 1].revents) {
                        c.aborted = true
                    }
                }
                remove { $0.aborted || $0.finished }
                if fds[0].revents & Int16(POLLIN) != 0 {
                    _ = nook_signalfd_read(termFD)
                    if draining {
                        // Again: what is still open is cut short, and its clients are told so.
                        for c in connections { c.aborted = true }
                        connections.removeAll()
                        exit(0)
                    }
                    // The ports close now: a client that comes later is refused, not left waiting.
                    draining = true
                    for fd in listeners { close(fd) }
                    continue
                }
                for (i, fd) in listeners.enumerated() where fds[1 + i].revents & Int16(POLLIN) != 0 {
                    accept(from: fd, port: i)
                }
            }
        }

        mutating func remove(where done: (Connection) -> Bool) {
            connections.removeAll { c in
                guard done(c) else { return false }
                perPort[c.port] -= 1
                return true
            }
        }

        /// false: the connection is broken (reset both ends).
        func service(_ c: Connection, clientEvents: Int16, serverEvents: Int16) -> Bool {
            if c.connecting {
                // The client went away meanwhile: its slot is not held until the connect gives up.
                if clientEvents & Int16(POLLHUP | POLLERR) != 0 { return false }
                if serverEvents == 0 { return true }
                var err: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                // Refused (nothing listens there yet) or reset: the client's connection is reset, as pasta does.
                guard getsockopt(c.server, SOL_SOCKET, SO_ERROR, &err, &length) == 0, err == 0 else { return false }
                c.connecting = false
                // Whatever the client sent meanwhile is read at the next poll.
                return true
            }
            let readable = Int16(POLLIN | POLLHUP | POLLERR)
            if clientEvents & readable != 0 && c.up.wantsRead { c.up.read(from: c.client) }
            if serverEvents & readable != 0 && c.down.wantsRead { c.down.read(from: c.server) }
            // Written at once, not at the next poll: a full socket says EAGAIN and keeps the rest buffered.
            c.up.write(to: c.server)
            c.down.write(to: c.client)
            // An end that was reset (seen reading from it or writing to it) is gone. The other
            // end still gets every byte the gone one sent before (read until its reset), then
            // the reset, once the kernel has sent it all: as over a direct connection.
            let serverGone = c.down.readReset || c.up.writeReset
            let clientGone = c.up.readReset || c.down.writeReset
            guard serverGone != clientGone else { return !serverGone }
            let (toLiveEnd, live) = serverGone ? (c.down, c.client) : (c.up, c.server)
            guard toLiveEnd.done else { return true }
            let now = Monotonic.now()
            if c.resetDeadline == nil { c.resetDeadline = now + PortRelay.resetFlushSeconds }
            return nook_socket_unsent(live) > 0 && now < (c.resetDeadline ?? now)
        }

        mutating func accept(from listener: Int32, port i: Int) {
            while accepts(i) {
                let client = nook_accept_nonblock(listener)
                guard client >= 0 else {
                    // Out of fds: not polled again at once (it would stay readable). A client that
                    // gave up while queued is skipped; anything else ends this round.
                    if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM { starved = true }
                    if errno == ECONNABORTED || errno == EINTR { continue }
                    if errno != EAGAIN { starved = true }
                    return
                }
                // Made after setns: this socket is in the container's network namespace.
                let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
                guard server >= 0 else {
                    var reset = linger(l_onoff: 1, l_linger: 0)  // refused, not served an empty answer
                    setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
                    close(client)
                    starved = true
                    return
                }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = ports[i].bigEndian
                address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
                let rc = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                let err = errno
                let c = Connection(client: client, server: server, port: i)
                connections.append(c)
                perPort[i] += 1
                if rc == 0 {
                    c.connecting = false
                } else if err != EINPROGRESS {
                    c.aborted = true  // refused at once: reset, as above
                    remove { $0 === c }
                }
            }
        }

        func fatal(_ call: String, _ err: Int32) -> Never {
            let text = "nook __forward: \(call): \(String(cString: strerror(err)))\n"
            _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
            exit(1)
        }
    }
}
