import Glibc
import NookCore
import NookImages
import NookKernel
import NookSpec

/// `nook pull` runs `nook-registry`, the program that holds the HTTP client,
/// in its own place: `nook` itself never links the network stack (PullRequest
/// says why). The request goes over a pipe as fd 3; stdin, stdout, stderr and
/// the terminal stay the user's (a `--creds USER` password is asked on it).
enum RegistryProgram {
    /// `$NOOK_REGISTRY`, else beside this nook's own file (how bootstrap and
    /// SwiftPM lay them out), else PATH.
    static func locate(environment: [String: String]) throws -> String {
        guard let found = CompanionExecutable.find(PullRequest.programName, overrideVariable: "NOOK_REGISTRY", environment: environment) else {
            throw NookError("cannot find \(PullRequest.programName), the program nook pull runs to talk to registries",
                            hint: "install it beside nook (Scripts/bootstrap.sh does), or set NOOK_REGISTRY to its path")
        }
        return found
    }

    /// Replaces this process with nook-registry, the request waiting on fd 3.
    static func exec(_ request: PullRequest) throws -> Never {
        let program = try locate(environment: ProcessEnvironment.current())
        let json = Array(try JSONText.encode(request, pretty: false).utf8)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw NookError.sys("pipe", errno: errno) }
        // A few hundred bytes: the pipe holds them all, so nothing waits for a reader.
        let written = json.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        guard written == json.count else { throw NookError.sys("write the pull request", errno: errno) }
        close(fds[1])
        guard dup2(fds[0], PullRequest.fd) == PullRequest.fd else { throw NookError.sys("dup2", errno: errno) }
        if fds[0] != PullRequest.fd { close(fds[0]) }
        let argv = [PullRequest.programName, "pull"]
        var cArgs = argv.map { strdup($0) } + [nil]
        execv(program, &cArgs)
        throw NookError.sys("exec '\(program)'", path: program, errno: errno)
    }
}
