import CShims
import Glibc
import NookCore

/// The real kernel.
package final class LiveKernel: KernelInterface {
    package init() {}

    package func socketPair() throws -> (parent: Int32, child: Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw NookError.sys("socketpair", errno: errno)
        }
        return (fds[0], fds[1])
    }

    package func spawn(_ plan: ChildPlan, syncFD: Int32, options: SpawnOptions) throws -> SpawnedProcess {
        let launcher = ChildLauncher()
        let r = try launcher.spawn(plan, options: .init(syncFD: syncFD, parentSyncFD: options.parentSyncFD, trace: options.trace, cgroupFD: options.cgroupFD,
                                                        startFifoFD: options.startFifoFD, createConsole: options.createConsole,
                                                        consoleSize: options.consoleSize,
                                                        stdio: options.stdio))
        return SpawnedProcess(pid: r.pid, pidfd: r.pidfd)
    }

    package func writeFile(_ path: String, _ contents: String) throws {
        try HostPath.writeText(path, contents)
    }

    package func runHelpers(_ argvs: [[String]]) throws -> [(status: Int32, errorOutput: String)] {
        try HelperProcess.runTogether(argvs)
    }

    package func sendGo(_ fd: Int32) throws {
        var go: UInt8 = 1
        guard Glibc.send(fd, &go, 1, Int32(MSG_NOSIGNAL)) == 1 else { throw NookError.sys("send to the container's setup", errno: errno) }
    }

    package func receive(_ fd: Int32) throws -> ChildMessage? {
        var raw = nook_msg()
        var passed: Int32 = -1
        let n = nook_recv_msg(fd, &raw, &passed)
        if n < 0 { throw NookError.sys("read from the container's setup", errno: errno) }
        if n == 0 { return nil }
        guard n == MemoryLayout<nook_msg>.size, let message = ChildMessage(raw, fd: passed) else {
            throw NookError("protocol error: the container's setup sent a malformed record (\(n) bytes, type \(raw.type))")
        }
        return message
    }

    package func wait(_ process: SpawnedProcess, forwarding signals: [Int32]) throws -> ExitStatus {
        try wait(process, forwarding: signals, terminal: nil)
    }

    /// One poll loop: the child's pidfd, a signalfd for the signals we forward,
    /// and with a terminal our stdin and the pty master.
    package func wait(_ process: SpawnedProcess, forwarding signals: [Int32], terminal: TerminalRelay?) throws -> ExitStatus {
        try wait(process, forwarding: signals, terminal: terminal, log: nil)
    }

    package func wait(_ process: SpawnedProcess, forwarding signals: [Int32], terminal: TerminalRelay?, log: LogRelay?) throws -> ExitStatus {
        if process.pidfd < 0 && signals.isEmpty && terminal == nil && log == nil {
            return try Self.collect(process.pid) // no pidfd to poll and nothing to relay: waited for by pid
        }
        let sigfd = signals.isEmpty ? -1 : nook_signalfd(signals, signals.count)
        defer { if sigfd >= 0 { Glibc.close(sigfd) } }
        var stdinOpen = terminal?.forwardInput ?? false
        var masterOpen = terminal != nil
        var buffer = [UInt8](repeating: 0, count: 16384)
        func drainMaster() {
            guard let terminal, masterOpen else { return }
            let flags = nook_fcntl_getfl(terminal.master)
            _ = nook_fcntl_setfl(terminal.master, flags | O_NONBLOCK)
            while true {
                let n = read(terminal.master, &buffer, buffer.count)
                if n <= 0 { break }
                Self.writeAll(1, buffer, n)
            }
            masterOpen = false
        }
        while true {
            var fds = [pollfd(fd: process.pidfd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stdinOpen ? 0 : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: masterOpen ? terminal!.master : -1, events: Int16(POLLIN), revents: 0)]
            for fd in log?.openSources ?? [] { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let r = Glibc.poll(&fds, nfds_t(fds.count), -1)
            if r < 0 && errno == EINTR { continue }
            if r < 0 { throw NookError.sys("poll", errno: errno) }
            if fds[1].revents & Int16(POLLIN) != 0 {
                let sig = nook_signalfd_read(sigfd)
                if sig == SIGWINCH, let terminal {
                    terminal.copyWindowSize()
                } else if sig > 0 {
                    _ = nook_pidfd_send_signal(process.pidfd, sig)
                }
            }
            if fds[2].revents != 0, let terminal {
                let n = read(0, &buffer, buffer.count)
                if n > 0 { Self.writeAll(terminal.master, buffer, n) } else if n == 0 || errno != EINTR { stdinOpen = false }
            }
            if fds[3].revents != 0, let terminal {
                let n = read(terminal.master, &buffer, buffer.count)
                if n > 0 { Self.writeAll(1, buffer, n) } else if n == 0 || errno != EINTR { masterOpen = false }
            }
            for entry in fds.dropFirst(4) where entry.revents != 0 { log?.pump(entry.fd) }
            if fds[0].revents != 0 {
                drainMaster()
                log?.drain()
                return try Self.collect(process.pid)
            }
        }
    }

    /// waitpid for a child of ours, through EINTR.
    static func collect(_ pid: pid_t) throws -> ExitStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw NookError.sys("waitpid \(pid)", errno: errno) }
        }
        return ExitStatus(waitStatus: status)
    }

    static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) {
        var offset = 0
        while offset < count {
            let n = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    package func signal(_ process: SpawnedProcess, _ sig: Int32) throws {
        let r = process.pidfd >= 0 ? nook_pidfd_send_signal(process.pidfd, sig) : Glibc.kill(process.pid, sig)
        if r < 0 && errno != ESRCH {
            throw NookError.sys("kill \(process.pid)", errno: errno)
        }
    }

    package func adopt(_ pid: pid_t) throws -> SpawnedProcess {
        let fd = nook_pidfd_open(pid)
        guard fd >= 0 else { throw NookError.sys("pidfd_open \(pid)", errno: errno) }
        return SpawnedProcess(pid: pid, pidfd: fd)
    }

    package func reap(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    package func close(_ fd: Int32) {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    package func processStat(_ pid: pid_t) -> String? {
        try? HostPath.readText("/proc/\(pid)/stat")  // gone (or not ours to read): no stat line, which callers take as not alive
    }

    package func startHelper(_ path: String, _ argv: [String], fds: [Int32]) throws -> pid_t {
        try HelperProcess.spawnTied(path, argv, fds: fds)
    }

    package func startHelper(_ launch: HelperLaunch, input: [UInt8]) throws -> SpawnedProcess {
        var inPipe: [Int32] = [-1, -1]
        guard Syscall.pipe(&inPipe) == 0 else { throw NookError.sys("pipe", errno: errno) }
        var launch = launch
        launch.fds = [inPipe[0]] + launch.fds.dropFirst()
        let pid: pid_t
        do {
            pid = try HelperProcess.start(launch)
        } catch {
            Glibc.close(inPipe[0])
            Glibc.close(inPipe[1])
            throw error
        }
        Glibc.close(inPipe[0])
        // It may exit without reading its stdin: that must be EPIPE for us, not SIGPIPE.
        let previous = Glibc.signal(SIGPIPE, SIG_IGN)
        Self.writeAll(inPipe[1], input, input.count)
        Glibc.close(inPipe[1])
        Glibc.signal(SIGPIPE, previous)
        return SpawnedProcess(pid: pid, pidfd: nook_pidfd_open(pid))
    }

    package func sendFD(_ fd: Int32, toSocket path: String) throws {
        let r = Syscall.sendFD(fd, toSocket: path)
        if r < 0 { throw NookError.sys("send the console to '\(path)'", path: path, errno: -r) }
    }

    package func mountFuseOverlay(_ mount: FuseOverlayMount, in process: SpawnedProcess, joinUser: Bool) throws {
        try mount.start(in: process, joinUser: joinUser)
    }

    package func pipe(holding bytes: [UInt8]) throws -> Int32 {
        var fds: [Int32] = [-1, -1]
        guard Syscall.pipe(&fds) == 0 else { throw NookError.sys("pipe", errno: errno) }
        Self.writeAll(fds[1], bytes, bytes.count)
        Glibc.close(fds[1])
        return fds[0]
    }
}
