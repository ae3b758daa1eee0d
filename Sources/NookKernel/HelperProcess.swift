import CShims
import Glibc
import NookCore

/// Runs a short-lived helper program (newuidmap, newgidmap) with posix_spawn
/// and collects its stderr, for error messages.
public enum HelperProcess {
    public static func run(_ argv: [String], captureStdout: Bool = false) throws -> (status: Int32, errorOutput: String) {
        let r = try runCapturing(argv, captureStdout: captureStdout)
        return (r.status, r.errorOutput)
    }

    public static func runCapturing(_ argv: [String], captureStdout: Bool = true) throws
        -> (status: Int32, output: String, errorOutput: String) {
        var errPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        guard Syscall.pipe(&errPipe) == 0, Syscall.pipe(&outPipe) == 0 else { throw NookError.sys("pipe", errno: errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        if captureStdout { posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1) }
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ)
        close(errPipe[1])
        close(outPipe[1])
        defer { close(errPipe[0]); close(outPipe[0]) }
        if rc != 0 { throw NookError.sys("run \(argv[0])", errno: rc) }
        let output = readAll(outPipe[0])
        let errorOutput = readAll(errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (ExitStatus(waitStatus: status).code, output, errorOutput)
    }

    package static func readAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buf[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Starts a long-lived helper (pasta, slirp4netns) that dies with this
    /// process (PR_SET_PDEATHSIG), with `fds[i]` as its fd i (-1: closed) and
    /// every other fd closed. Returns its pid; the caller reaps it.
    public static func spawnTied(_ path: String, _ argv: [String], fds: [Int32]) throws -> pid_t {
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        let pid = fds.withUnsafeBufferPointer { nook_spawn_helper(path, cArgs, environ, $0.baseAddress, Int32($0.count)) }
        guard pid > 0 else { throw NookError.sys("start \(argv.first ?? path)", errno: errno) }
        return pid
    }
}
