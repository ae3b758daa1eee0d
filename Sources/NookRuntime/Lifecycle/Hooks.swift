import Glibc
import NookCore
import NookKernel
import NookSpec
import FoundationEssentials

/// OCI hooks: programs run at points of the lifecycle with the container's
/// state JSON on stdin. A hook that fails or times out fails the operation
/// (except poststart and poststop, which are reported and ignored, as the spec says).
package enum HookRunner {
    package typealias Point = HookPoint


    package static func run(_ spec: Spec, _ point: Point, state: OCIState, tracer: Tracer, kernel: KernelInterface) throws {
        let list = spec.hooks(at: point)
        guard !list.isEmpty else { return }
        let input = try input(state)
        for (i, hook) in list.enumerated() {
            tracer.emit("hook", "\(point.rawValue)[\(i)]: \(hook.path)", "an OCI hook, with the state JSON on stdin")
            do {
                var launch = HelperLaunch(program: hook.path, arguments: hook.args?.isEmpty == false ? hook.args! : [hook.path])
                launch.environment = hook.env ?? []
                let process = try kernel.startHelper(launch, input: input)
                try waitForHook(process, timeout: hook.timeout, kernel: kernel)
            } catch let error as NookError {
                let wrapped = error.within("\(point.rawValue) hook \(i) (\(hook.path))")
                if point.fatal { throw wrapped }
                Tracer.standardError("nook: warning: \(wrapped)")
            }
        }
    }

    /// Waits for a hook process (our child), killing it after `timeout`
    /// seconds; throws unless it exited 0. Its pidfd is closed, and it is
    /// collected on every way out.
    static func waitForHook(_ hook: SpawnedProcess, timeout: Int?, kernel: KernelInterface) throws {
        defer { kernel.close(hook.pidfd) }
        // Clamped: BundleLoader refused timeouts out of range, a Spec made in code may not be.
        let seconds = timeout.map { Double(min(max($0, 0), Int(Int32.max / 1000))) }
        let deadline = seconds.map { kernel.now() + $0 }
        // Without a pidfd there is nothing to poll: it is waited for without a timeout.
        while hook.pidfd >= 0 {
            let left = deadline.map { Int32(max(0, ($0 - kernel.now()) * 1000).rounded(.up)) } ?? -1
            let events: Int16
            do {
                events = try NookError.step("poll the hook's pidfd") { try kernel.poll(hook.pidfd, events: Int16(POLLIN), milliseconds: left) }
            } catch {
                stop(hook, kernel: kernel)
                throw error
            }
            if events != 0 { break }
            // No event: the time is up, or a signal woke us early.
            if let deadline, kernel.now() >= deadline {
                stop(hook, kernel: kernel)
                throw NookError("timed out after \(timeout ?? 0) s", kind: .timedOut)
            }
        }
        let exit: ExitStatus
        do {
            exit = try kernel.wait(hook, forwarding: [])
        } catch {
            kernel.reap(hook.pid)
            throw error
        }
        if exit != .exited(0) { throw NookError("exited with status \(exit.code)") }
    }

    /// Kills a hook that overran (or that can no longer be watched) and collects it.
    private static func stop(_ hook: SpawnedProcess, kernel: KernelInterface) {
        try? kernel.signal(hook, SIGKILL) // fails only once it is gone: it is collected just the same
        kernel.reap(hook.pid)
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
        guard fd >= 0 else { throw NookError.sys("open '\(path)' on the host", path: path, errno: errno) }
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
        guard reader >= 0 else { throw NookError.sys("read '\(path)' on the host to copy it", path: path, errno: errno) }
        defer { Glibc.close(reader) }
        self.fd = try SealedBinary.sealedCopy(of: reader, name: "hook", what: "the hook '\(path)'")
        var magic: [UInt8] = [0, 0]
        _ = pread(self.fd, &magic, 2, 0)
        isScript = magic == [0x23, 0x21] // "#!"
    }

    func close() { Glibc.close(fd) }
}

/// The state the OCI runtime spec defines (what `nook state` prints and hooks read).
package struct OCIState: Codable, Sendable, Equatable {
    package var ociVersion: String
    package var id: String
    package var status: String
    package var pid: Int32
    package var bundle: String
    package var annotations: [String: String]?
}
