import Glibc

/// A namespace file's identity: what `stat` says of /proc/PID/ns/KIND.
package struct NamespaceID: Sendable, Hashable {
    package var device: UInt64
    package var inode: UInt64
    package init(device: UInt64, inode: UInt64) { (self.device, self.inode) = (device, inode) }
}

/// A namespace held open (so its inode cannot pass to another meanwhile).
package struct OpenNamespace: Sendable, Equatable {
    package var fd: Int32
    package var id: NamespaceID
    package init(fd: Int32, id: NamespaceID) { (self.fd, self.id) = (fd, id) }
}

/// What the runtime asks of the kernel about processes it did not start
/// itself (a container's, found in /proc by `kill`, `delete --force`,
/// `start`), and the clock its bounded waits use. Failures are the kernel's
/// `Errno`; the caller names the step (`NookError.step`).
package protocol ProcessTableKernel: AnyObject {
    /// pidfd_open(2) on any process; the caller checks after that it is the one it meant.
    func openPidfd(_ pid: pid_t) throws -> Int32
    /// The process behind a pidfd has ended (a zombie too): the pidfd polls readable.
    func hasExited(_ pidfd: Int32) -> Bool
    /// pidfd_send_signal(2); a process gone already (ESRCH) is no failure.
    func signal(pidfd: Int32, _ sig: Int32) throws
    /// The pids /proc lists.
    func processIDs() -> [pid_t]
    /// /proc/PID/status, or nil when there is no such process.
    func processStatus(_ pid: pid_t) -> String?
    /// /proc/PID/ns/KIND, opened; nil when it cannot be.
    func openNamespace(_ pid: pid_t, _ kind: String) -> OpenNamespace?
    /// /proc/PID/ns/KIND's identity, without opening it; nil when there is none.
    func namespaceID(_ pid: pid_t, _ kind: String) -> NamespaceID?
    /// ioctl(NS_GET_PARENT) on an open user namespace: its parent, opened;
    /// nil above the top of our own scope (EPERM).
    func parentNamespace(of fd: Int32) -> OpenNamespace?
    /// CLOCK_MONOTONIC, in seconds.
    func now() -> Double
    func sleep(microseconds: UInt32)
}
