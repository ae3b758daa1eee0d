import Glibc
import NookCore
import NookKernel

/// Which program runs `nook __monitor` for a detached container.
///
/// The `nook` CLI re-executes itself (`/proc/self/exe`, which is also right
/// for a sealed copy that has no path). A library caller, such as a test
/// binary, is not nook: it names the binary, or lets it be found. The monitor
/// is a whole Swift program that plans and supervises a container, so it
/// cannot be a fork of the caller without exec: after fork only the calling
/// thread exists, and a lock another thread held (malloc's arenas, the Swift
/// runtime's metadata caches, the concurrency pool's queues) stays locked in
/// the child for ever.
public enum MonitorExecutable: Sendable, Equatable {
    /// This process's own binary: the caller is the `nook` CLI.
    case currentProcess
    /// This file (it must be a nook of the same version as the library).
    case path(String)
    /// Found, in this order: `$NOOK_BINARY`; `nook` beside this process's
    /// executable (a test bundle sits beside the `nook` SwiftPM built with it,
    /// so library and monitor come from one build); `nook` in `$PATH` (an
    /// installed nook, which may be another version: hence last).
    case locate

    /// The file to execute, checked to be executable. A harness also uses it
    /// to find the nook it runs itself (`nook rootfs busybox DIR`).
    public func resolve(environment: [String: String]) throws -> String {
        switch self {
        case .currentProcess:
            return "/proc/self/exe"
        case .path(let path):
            guard access(path, X_OK) == 0 else {
                throw NookError.sys("the nook binary for the monitor, '\(path)'", path: path, errno: errno,
                                    hint: "name an executable nook binary")
            }
            return path
        case .locate:
            if let path = CompanionExecutable.find("nook", overrideVariable: "NOOK_BINARY", environment: environment) {
                return path
            }
            throw NookError("cannot find the nook binary to monitor a detached container",
                            hint: "set NOOK_BINARY to its path, put nook in PATH, or build it beside your tests (swift build --product nook)")
        }
    }

    /// Where `.locate` looks, in order.
    static func candidates(environment: [String: String]) -> [String] {
        CompanionExecutable.candidates("nook", overrideVariable: "NOOK_BINARY", environment: environment)
    }
}
