import Glibc
import NookCore
import NookKernel
import NookSpec

/// A host program run as root of a new user namespace mapped as `nook run`
/// maps a container (the caller as 0, its sub-id range from 1), with a
/// mount namespace of its own and the host's files: no pivot_root, the
/// working directory kept. `nook unshare` (podman unshare's meaning), the
/// layer unpacker (files owned by sub-ids) and the removal of those files.
package struct UserNamespaceCommand {
    package let identity: IDMapping

    package init(identity: IDMapping) { self.identity = identity }

    /// The mapping a container of this user gets by default (`--userns auto`).
    package static func containerMapping() throws -> UserNamespaceCommand {
        UserNamespaceCommand(identity: try IdentityResolver().resolve(spec: Spec(), mode: .auto))
    }

    /// True when the namespace maps more than the caller: files can be owned
    /// as an image says (else every file is the caller's).
    package var mapsSubordinateIDs: Bool {
        identity.uidMappings.reduce(0) { $0 + UInt64($1.size) } > 1
    }

    /// Runs `arguments` (argv[0] included) in the namespace and returns its
    /// exit code. While it runs, nook ignores SIGINT and SIGQUIT (as
    /// system(3) does): the terminal's Ctrl-C is the program's.
    package func run(program: String, arguments: [String], environment: [String]? = nil) throws -> Int32 {
        let process = try UserNamespaceProcess(program: program, arguments: arguments, environment: environment)
        do {
            try Supervisor(kernel: LiveKernel(), tracer: Tracer(enabled: false)).writeIDMaps(identity, pid: process.pid)
        } catch {
            process.abandon()
            throw error
        }
        let interrupt = signal(SIGINT, SIG_IGN), quit = signal(SIGQUIT, SIG_IGN)
        defer { signal(SIGINT, interrupt); signal(SIGQUIT, quit) }
        try process.release()
        return try process.wait()
    }
}
