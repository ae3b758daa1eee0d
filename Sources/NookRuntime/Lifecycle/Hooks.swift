import Glibc
import NookCore
import NookKernel
import NookSpec
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// OCI hooks: programs run at points of the lifecycle with the container's
/// state JSON on stdin. A hook that fails or times out fails the operation
/// (except poststart and poststop, which are reported and ignored, as the spec says).
public enum HookRunner {
    public typealias Point = HookPoint


    public static func run(_ spec: Spec, _ point: Point, state: OCIState, tracer: Tracer) throws {
        let list = spec.hooks(at: point)
        guard !list.isEmpty else { return }
        let input = try input(state)
        for (i, hook) in list.enumerated() {
            tracer.emit("hook", "\(point.rawValue)[\(i)]: \(hook.path)", "an OCI hook, with the state JSON on stdin")
            do {
                try runOne(hook, input: input)
            } catch let error as NookError {
                let wrapped = NookError("\(point.rawValue) hook \(i) (\(hook.path)): \(error.message)", hint: error.hint)
                if point.fatal { throw wrapped }
                Tracer.standardError("nook: warning: \(wrapped)")
            }
        }
    }

    static func runOne(_ hook: Spec.Hook, input: [UInt8]) throws {
        var inPipe: [Int32] = [-1, -1]
        guard Syscall.pipe(&inPipe) == 0 else { throw NookError.sys("pipe", errno: errno) }
        var launch = HelperLaunch(program: hook.path, arguments: hook.args?.isEmpty == false ? hook.args! : [hook.path])
        launch.environment = hook.env ?? []
        launch.fds = [inPipe[0], 1, 2]
        let pid: pid_t
        do {
            pid = try HelperProcess.start(launch)
        } catch {
            close(inPipe[0])
            close(inPipe[1])
            throw error
        }
        close(inPipe[0])
        // A hook may exit without reading its stdin: that must be EPIPE for us, not SIGPIPE.
        let previous = signal(SIGPIPE, SIG_IGN)
        input.withUnsafeBytes { _ = write(inPipe[1], $0.baseAddress, $0.count) }
        close(inPipe[1])
        signal(SIGPIPE, previous)
        try waitForHook(pid: pid, timeout: hook.timeout)
    }

    /// Waits for a hook process (our child), killing it after `timeout` seconds; throws unless it exited 0.
    static func waitForHook(pid: pid_t, timeout: Int?) throws {
        let pidfd = Syscall.pidfdOpen(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
        // Clamped: BundleLoader refused timeouts out of range, a Spec made in code may not be.
        let milliseconds = timeout.map { Int32(clamping: $0.multipliedReportingOverflow(by: 1000).overflow ? Int.max : $0 * 1000) } ?? -1
        if pidfd >= 0 && poll(&fds, 1, milliseconds) == 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            throw NookError("timed out after \(timeout ?? 0) s")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit = ExitStatus(waitStatus: status)
        if exit != .exited(0) { throw NookError("exited with status \(exit.code)") }
    }

    /// The state JSON hooks read on stdin.
    static func input(_ state: OCIState) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(state))
    }
}

/// A createContainer hook's program, opened on the host before the helper
/// enters the container: its path resolves in the runtime namespace, and the
/// process runs in the container's namespaces by `execveat(fd, "", AT_EMPTY_PATH)`.
/// An ELF binary needs nothing more (its fd closes on exec). A `#!` script is
/// run by the kernel as `INTERPRETER /dev/fd/N`: its fd stays open across the
/// exec, and the interpreter is looked up in the container's root (the
/// container's /bin/sh, not the host's).
struct HookProgram {
    let fd: Int32
    let isScript: Bool

    init(opening path: String) throws {
        guard path.hasPrefix("/") else { throw NookError("the hook's path must be absolute (OCI runtime spec)") }
        // O_PATH first: opening cannot block (a FIFO), and it is checked before it is read.
        let fd = Syscall.openPath(path)
        guard fd >= 0 else { throw NookError.sys("open '\(path)' on the host", errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw NookError("'\(path)' on the host is not a regular file")
        }
        // The program runs from a sealed in-memory copy: the container's interpreter gets
        // `/dev/fd/N` (and an ELF hook is /proc/PID/exe while it runs), and reopening
        // the host's file through that for writing would let the image rewrite it.
        // Reopened through the fd, so this is the file that was checked.
        let reader = open("/proc/self/fd/\(fd)", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        Glibc.close(fd)
        guard reader >= 0 else { throw NookError.sys("read '\(path)' on the host to copy it", errno: errno) }
        defer { Glibc.close(reader) }
        self.fd = try SealedBinary.sealedCopy(of: reader, name: "hook", what: "the hook '\(path)'")
        var magic: [UInt8] = [0, 0]
        _ = pread(self.fd, &magic, 2, 0)
        isScript = magic == [0x23, 0x21] // "#!"
    }

    func close() { Glibc.close(fd) }
}

/// The state the OCI runtime spec defines (what `nook state` prints and hooks read).
public struct OCIState: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var status: String
    public var pid: Int32
    public var bundle: String
    public var annotations: [String: String]?
}
