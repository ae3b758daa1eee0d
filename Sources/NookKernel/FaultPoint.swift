import Glibc
import NookCore

/// Named points in the lifecycle where a test can stop a `nook` process and
/// kill it (Tests/IntegrationTests/FaultMatrixTests): debug builds only.
///
/// With `NOOK_FAULT_STOP=NAME` in its environment, the process that reaches
/// point NAME appends "NAME PID" to the file `NOOK_FAULT_REPORT` and stops
/// itself (SIGSTOP); the test then SIGKILLs it there, at a known step and not
/// by timing luck. Release builds compile this to nothing.
package enum FaultPoint {
    @inline(__always)
    package static func reached(_ name: StaticString) {
        #if DEBUG
        guard let wanted = getenv("NOOK_FAULT_STOP"), String(cString: wanted) == "\(name)" else { return }
        if let report = getenv("NOOK_FAULT_REPORT") {
            let fd = open(report, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 {
                let line = "\(name) \(getpid())\n"
                _ = line.withCString { write(fd, $0, strlen($0)) }
                close(fd)
            }
        }
        raise(SIGSTOP)
        #endif
    }
}
