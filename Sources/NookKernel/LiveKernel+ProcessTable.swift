import CShims
import Glibc
import NookCore
import SystemPackage

/// The process-table half of the real kernel. The calls that open an fd
/// raise the soft limit on open files to the hard one, once, when it runs out
/// (a container may have many processes to hold).
extension LiveKernel {
    package func openPidfd(_ pid: pid_t) throws -> Int32 {
        let fd = Self.retryingWithMoreFiles { nook_pidfd_open(pid) }
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        return fd
    }

    package func hasExited(_ pidfd: Int32) -> Bool {
        var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        var r: Int32
        repeat { r = Glibc.poll(&p, 1, 0) } while r < 0 && errno == EINTR
        return r != 0
    }

    package func signal(pidfd: Int32, _ sig: Int32) throws {
        if nook_pidfd_send_signal(pidfd, sig) < 0 && errno != ESRCH { throw Errno(rawValue: errno) }
    }

    package func processIDs() -> [pid_t] {
        (listDirectory("/proc") ?? []).compactMap { Int32($0) }
    }

    package func processStatus(_ pid: pid_t) -> String? {
        try? HostPath.readText("/proc/\(pid)/status") // none: the process is gone
    }

    package func openNamespace(_ pid: pid_t, _ kind: String) -> OpenNamespace? {
        let fd = Self.retryingWithMoreFiles { Glibc.open("/proc/\(pid)/ns/\(kind)", O_RDONLY | O_CLOEXEC) }
        return Self.opened(fd)
    }

    package func namespaceID(_ pid: pid_t, _ kind: String) -> NamespaceID? {
        var st = stat()
        guard stat("/proc/\(pid)/ns/\(kind)", &st) == 0 else { return nil }
        return NamespaceID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    package func parentNamespace(of fd: Int32) -> OpenNamespace? {
        Self.opened(Self.retryingWithMoreFiles { nook_ns_get_parent(fd) })
    }

    package func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    package func sleep(microseconds: UInt32) { usleep(microseconds) }

    /// A namespace fd with its identity, or nil (the fd closed) when fstat fails.
    private static func opened(_ fd: Int32) -> OpenNamespace? {
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else { Glibc.close(fd); return nil }
        return OpenNamespace(fd: fd, id: NamespaceID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))
    }

    /// `open` returns an fd or -1; with too many open files, raise the soft limit to the hard one once.
    static func retryingWithMoreFiles(_ open: () -> Int32) -> Int32 {
        let fd = open()
        guard fd < 0 && errno == EMFILE else { return fd }
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return -1 }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        return open()
    }
}
