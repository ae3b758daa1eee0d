import CShims
import Glibc
import NookCore

/// A host program started as root of a new user and mount namespace: the
/// child is in its namespaces when `start` returns and waits there until
/// `release()`, so the caller can write its id maps first.
package final class UserNamespaceProcess {
    package let pid: pid_t
    private var go: Int32
    private var report: Int32
    let name: String

    /// `program`: a path (execve's rules); argv[0] included in `arguments`.
    package init(program: String, arguments: [String], environment: [String]? = nil) throws {
        name = arguments.first ?? program
        var argv = arguments.map { strdup($0) } + [nil]
        var envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer { for p in argv + (envp ?? []) { free(p) } }
        var go: Int32 = -1, report: Int32 = -1
        let pid = argv.withUnsafeMutableBufferPointer { args in
            if envp == nil { return nook_spawn_in_userns(program, args.baseAddress, environ, &go, &report) }
            return envp!.withUnsafeMutableBufferPointer { env in nook_spawn_in_userns(program, args.baseAddress, env.baseAddress, &go, &report) }
        }
        guard pid > 0 else {
            throw NookError.sys("start \(name) in a new user namespace", errno: errno,
                                hint: errno == EPERM || errno == ENOSPC ? "unprivileged user namespaces are off or exhausted (sysctl user.max_user_namespaces)" : nil)
        }
        self.pid = pid
        self.go = go
        self.report = report
    }

    /// Lets the child go on (its maps are written) and waits until it runs
    /// the program; throws what stopped it (setresuid, execve) and reaps it.
    package func release() throws {
        var byte: UInt8 = 1
        let written = write(go, &byte, 1)
        close(go)
        go = -1
        var err: Int32 = 0
        var n: Int
        repeat { n = read(report, &err, MemoryLayout<Int32>.size) } while n < 0 && errno == EINTR
        close(report)
        report = -1
        if written != 1 || n == MemoryLayout<Int32>.size {
            _ = try? wait()  // reaped or not, the error to say is the start's
            throw NookError.sys("run \(name) in the user namespace", errno: written != 1 ? errno : err)
        }
    }

    /// Kills the child (its maps could not be written) and reaps it.
    package func abandon() {
        kill(pid, SIGKILL)
        _ = try? wait()  // killed: how it ended says nothing
    }

    /// Waits for it to end: its exit code (128+N for a signal).
    package func wait() throws -> Int32 {
        if go >= 0 { close(go); go = -1 }
        if report >= 0 { close(report); report = -1 }
        return try LiveKernel.collect(pid).code
    }
}
