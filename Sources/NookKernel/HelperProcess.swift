import CShims
import Glibc
import NookCore

/// A program Nook starts of its own choosing: newuidmap and newgidmap, getent,
/// pasta and slirp4netns, an OCI hook, the monitor of `run -d`. One way for
/// all of them (`HelperProcess.start`); the container's own processes are
/// cloned by `ChildLauncher` instead.
package struct HelperLaunch {
    /// The file to execute: as given (execve's rules), or with `searchPath` a
    /// name looked up in our PATH (nook's own helpers, never a hook's path).
    package var program: String
    package var searchPath = false
    /// argv, argv[0] included.
    package var arguments: [String]
    /// nil: ours.
    package var environment: [String]?
    /// `fds[i]` becomes the helper's fd i (-1: closed, i: inherited); every
    /// other fd is closed. At most 16.
    package var fds: [Int32] = [0, 1, 2]
    /// Its own session: the caller's Ctrl-C is not for it.
    package var newSession = false
    /// SIGKILL when this process dies (PR_SET_PDEATHSIG), even after our SIGKILL.
    package var diesWithUs = false

    package init(program: String, arguments: [String]) {
        self.program = program
        self.arguments = arguments
    }
}

package enum HelperProcess {
    /// Starts it and returns its pid (the caller waits for it). Throws when it
    /// could not start, naming the program and the errno (execve's included).
    package static func start(_ launch: HelperLaunch) throws -> pid_t {
        let name = launch.arguments.first ?? launch.program
        let path = launch.searchPath ? HostPath.findExecutable(launch.program) : launch.program
        guard let path else { throw NookError.sys("run \(name)", errno: ENOENT, hint: "'\(launch.program)' is not in PATH") }
        var argv = launch.arguments.map { strdup($0) } + [nil]
        var envp = launch.environment.map { $0.map { strdup($0) } + [nil] }
        defer { for p in argv + (envp ?? []) { free(p) } }
        let flags = (launch.newSession ? Int32(NOOK_HELPER_NEW_SESSION.rawValue) : 0)
            | (launch.diesWithUs ? Int32(NOOK_HELPER_DIE_WITH_PARENT.rawValue) : 0)
        let pid = launch.fds.withUnsafeBufferPointer { fds in
            argv.withUnsafeMutableBufferPointer { args in
                if envp == nil { return nook_spawn_helper(path, args.baseAddress, environ, fds.baseAddress, Int32(fds.count), flags) }
                return envp!.withUnsafeMutableBufferPointer { env in
                    nook_spawn_helper(path, args.baseAddress, env.baseAddress, fds.baseAddress, Int32(fds.count), flags)
                }
            }
        }
        guard pid > 0 else { throw NookError.sys("run \(name)", errno: errno) }
        return pid
    }

    package static func runCapturing(_ argv: [String], captureStdout: Bool = true) throws
        -> (status: Int32, output: String, errorOutput: String) {
        var errPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        guard Syscall.pipe(&errPipe) == 0, Syscall.pipe(&outPipe) == 0 else { throw NookError.sys("pipe", errno: errno) }
        defer { close(errPipe[0]); close(outPipe[0]) }
        var launch = HelperLaunch(program: argv[0], arguments: argv)
        launch.searchPath = true
        launch.fds = [0, captureStdout ? outPipe[1] : 1, errPipe[1]]
        let started = Result { try start(launch) }
        close(errPipe[1])
        close(outPipe[1])
        let pid = try started.get()
        let output = readAll(outPipe[0])
        let errorOutput = readAll(errPipe[0])
        return (try LiveKernel.collect(pid).code, output, errorOutput)
    }

    /// A helper's output up to EOF, of which the last `limit` bytes are kept
    /// (an error is said last): a chatty helper neither blocks on a full pipe
    /// nor fills our memory.
    package static func readAll(_ fd: Int32, limit: Int = 1 << 16) -> String {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buf[0..<n])
            if data.count > 2 * limit { data.removeFirst(data.count - limit) }
        }
        // Cut at a character's start: no half of one shown as U+FFFD.
        return String(decoding: data.suffix(limit).drop { $0 & 0xC0 == 0x80 }, as: UTF8.self)
    }

    /// Runs short-lived helpers side by side and returns each one's exit code
    /// and stderr, in order: newuidmap and newgidmap are independent setuid
    /// programs of about 2 ms each, so the second need not wait for the first.
    package static func runTogether(_ argvs: [[String]]) throws -> [(status: Int32, errorOutput: String)] {
        var started: [(name: String, pid: pid_t, stderr: Int32)] = []
        /// Each one's stderr read to its end (a helper blocked on a full pipe never ends), then its exit.
        func finish(_ s: (name: String, pid: pid_t, stderr: Int32)) throws -> (status: Int32, errorOutput: String) {
            let errorOutput = readAll(s.stderr)
            close(s.stderr)
            return (try LiveKernel.collect(s.pid).code, errorOutput)
        }
        func finishStarted() { for s in started { _ = try? finish(s) } }  // the error being thrown is the caller's
        for argv in argvs {
            var errPipe: [Int32] = [-1, -1]
            guard Syscall.pipe(&errPipe) == 0 else {
                let err = errno
                finishStarted()
                throw NookError.sys("pipe", errno: err)
            }
            var launch = HelperLaunch(program: argv[0], arguments: argv)
            launch.searchPath = true
            launch.fds = [0, 1, errPipe[1]]
            let pid: pid_t
            do { pid = try start(launch) } catch {
                close(errPipe[1]); close(errPipe[0]); finishStarted()
                throw error
            }
            close(errPipe[1])
            started.append((argv[0], pid, errPipe[0]))
        }
        var results: [(status: Int32, errorOutput: String)] = []
        for (i, s) in started.enumerated() {
            do { results.append(try finish(s)) } catch {
                for rest in started[(i + 1)...] { _ = try? finish(rest) }  // as above
                throw error
            }
        }
        return results
    }

    /// Starts a long-lived helper (pasta, slirp4netns) that dies with this
    /// process, with `fds[i]` as its fd i. Returns its pid; the caller reaps it.
    package static func spawnTied(_ path: String, _ argv: [String], fds: [Int32]) throws -> pid_t {
        var launch = HelperLaunch(program: path, arguments: argv)
        launch.fds = fds
        launch.newSession = true
        launch.diesWithUs = true
        return try start(launch)
    }
}
