import Glibc
import NookCore
import NookKernel
import NookSpec

/// The processes of one container, and nothing else (issue 15).
///
/// A container need not have a PID namespace of its own: an OCI config.json
/// may leave it out or join one by path, and then the init's PID namespace
/// holds the user's whole session, nook included. So a process counts as the
/// container's only when one of these proves it:
///  - it is in the container's own cgroup, or below it;
///  - it is in the PID namespace made for the container (the init is PID 1 there);
///  - without one, it is in the user namespace made for the container, or in
///    one made inside it (by unshare or clone, so wherever its parent is);
///  - its parent is one of the container's processes (the init's descendants).
/// Only the container itself and its owner (as `nook exec` does) can put a
/// process into its namespaces or its cgroup.
///
/// Every process is held by a pidfd opened before its proof is checked: what
/// /proc shows afterwards is that process, or that process is dead, so a pid
/// reused by a stranger is never signalled. The namespace is held open while
/// we look, so its inode number cannot pass to another namespace meanwhile.
/// Everything it asks of the kernel goes through the seam (`ProcessTableKernel`).
package final class ContainerProcesses {
    /// pid -> pidfd of every live process proven to be the container's.
    private var members: [Int32: Int32] = [:]
    private let initPID: Int32
    private var namespace: NamespaceHandle?
    private let cgroup: CgroupBackend
    private let kernel: KernelInterface
    /// Pids in the container's cgroup when last read (after the pidfds were opened).
    private var cgroupPIDs: Set<Int32> = []
    private var cgroupFrozenByUs = false
    /// Never ours to signal: this process, and the network helper (it dies with its nook).
    private let excluded: Set<Int32>
    /// The init is PID 1 of a namespace made for it: its death ends every process there.
    package let initEndsNamespace: Bool

    /// A namespace of the init's, held open.
    struct NamespaceHandle {
        var kind: String
        var open: OpenNamespace

        /// In it, or, for a user namespace, in one made inside it: only a
        /// process in a user namespace can make one there (the kernel records
        /// the parent), so one that unshared or cloned a user namespace of its
        /// own is still found, whoever its parent is. They nest 32 deep at most.
        func contains(_ pid: Int32, in kernel: KernelInterface) -> Bool {
            guard let id = kernel.namespaceID(pid, kind) else { return false }
            if id == open.id { return true }
            guard kind == "user" else { return false }
            var current = kernel.openNamespace(pid, kind)
            for _ in 0..<32 {
                guard let ns = current else { return false }
                // nil above the top of our own scope: then it is not below ours.
                let parent = kernel.parentNamespace(of: ns.fd)
                kernel.close(ns.fd)
                current = parent
                if let parent, parent.id == open.id { break }
            }
            guard let found = current else { return false }
            kernel.close(found.fd)
            return found.id == open.id
        }
    }

    package init(state: ContainerState, cgroup: CgroupBackend, kernel: KernelInterface) {
        initPID = state.pid
        excluded = Set([getpid()] + (state.networkHelperPID.map { [$0] } ?? []))
        self.cgroup = cgroup
        self.kernel = kernel
        var ownPIDNamespace = false
        if state.pid > 0, let fd = try? kernel.openPidfd(state.pid) { // none: the init is gone
            // Opened first, checked after: if the start time matches now, the pidfd is the init.
            guard ProcessIdentity(pid: state.pid, startTime: state.startTime).isAlive(in: kernel) else {
                kernel.close(fd)
                initEndsNamespace = false
                return
            }
            ownPIDNamespace = Self.innermostPID(state.pid, in: kernel) == 1
            let kind = ownPIDNamespace ? "pid" : (state.ownNamespaces ?? []).contains("user") ? "user" : nil
            namespace = kind.flatMap { kind in kernel.openNamespace(state.pid, kind).map { NamespaceHandle(kind: kind, open: $0) } }
            if kernel.hasExited(fd) {
                // What we read may have been another process's that took the pid.
                if let ns = namespace { kernel.close(ns.open.fd) }
                namespace = nil
                ownPIDNamespace = false
                kernel.close(fd)
            } else {
                members[state.pid] = fd
            }
        }
        initEndsNamespace = ownPIDNamespace
    }

    deinit {
        for fd in members.values { kernel.close(fd) }
        if let ns = namespace { kernel.close(ns.open.fd) }
        // Nothing to report to in a deinit; a cgroup left frozen is the container's to end.
        if cgroupFrozenByUs { try? cgroup.freeze(false) }
    }

    /// Host pids of the container's processes, as of the last `refresh()`.
    package var pids: [Int32] { members.keys.sorted() }

    /// Looks for the container's processes again; returns those found now.
    @discardableResult
    package func refresh() -> [Int32] {
        // An ended process is let go: its pid may soon be someone else's.
        for (pid, fd) in members where kernel.hasExited(fd) {
            kernel.close(fd)
            members[pid] = nil
        }
        var parents: [Int32: Int32] = [:]
        for pid in kernel.processIDs() where members[pid] == nil && !excluded.contains(pid) {
            if let s = procStat(pid), s.state != "Z", s.state != "X" { parents[pid] = s.ppid }
        }
        var found: [Int32] = []
        var rejected = Set<Int32>()
        while true {
            // Descendants need their parent proven first: repeat until nothing new.
            let inCgroupBefore = cgroup.pids()
            var candidates: [(Int32, Int32)] = []
            for (pid, ppid) in parents.sorted(by: { $0.key < $1.key }) where members[pid] == nil && !rejected.contains(pid) {
                guard members[ppid] != nil || inCgroupBefore.contains(pid) || namespace?.contains(pid, in: kernel) == true else { continue }
                if let fd = try? kernel.openPidfd(pid) { candidates.append((pid, fd)) } else { rejected.insert(pid) } // gone: not ours to signal
            }
            if candidates.isEmpty { break }
            cgroupPIDs = cgroup.pids()
            for (pid, fd) in candidates {
                if proven(pid) {
                    members[pid] = fd
                    found.append(pid)
                } else {
                    kernel.close(fd)
                    rejected.insert(pid)
                }
            }
            if namespace == nil && initEndsNamespace && adoptPIDNamespace(from: found) { rejected.removeAll() }
        }
        return found.sorted()
    }

    /// An init that made itself non-dumpable (`--init`) hides its namespaces
    /// from us; a child of it is in its PID namespace (or one it made).
    private func adoptPIDNamespace(from pids: [Int32]) -> Bool {
        guard let initFD = members[initPID] else { return false }
        for pid in pids {
            guard let fd = members[pid], procStat(pid)?.ppid == initPID,
                  let ns = kernel.openNamespace(pid, "pid") else { continue }
            if kernel.hasExited(fd) || kernel.hasExited(initFD) || procStat(pid)?.ppid != initPID {
                kernel.close(ns.fd)
                continue
            }
            namespace = NamespaceHandle(kind: "pid", open: ns)
            return true
        }
        return false
    }

    /// Checked after `pid`'s pidfd was opened.
    private func proven(_ pid: Int32) -> Bool {
        if cgroupPIDs.contains(pid) || namespace?.contains(pid, in: kernel) == true { return true }
        guard let s = procStat(pid), s.state != "Z", let parent = members[s.ppid] else { return false }
        // The parent had not ended after we read its pid: the number was still that process's.
        return !kernel.hasExited(parent)
    }

    /// Sends `sig` to every process of the container, each once, forks while
    /// we do included. SIGKILL goes through `kill()`.
    package func signal(_ sig: Int32) {
        if sig == SIGKILL { kill(); return }
        // As runc does: nothing in a frozen cgroup forks while we look.
        freezeCgroup()
        defer { thawCgroup() }
        var sent = Set<Int32>()
        for _ in 0..<Self.maxRounds {
            if signalNewMembers(sig, sent: &sent).isEmpty { break }
        }
    }

    /// Lists the members afresh and sends `sig` to those not in `sent` yet,
    /// adding them; returns them (none: every member has had it).
    private func signalNewMembers(_ sig: Int32, sent: inout Set<Int32>) -> [Int32] {
        refresh()
        let fresh = members.filter { !sent.contains($0.key) }
        for (pid, fd) in fresh.sorted(by: { $0.key < $1.key }) {
            send(sig, to: fd)
            sent.insert(pid)
        }
        return Array(fresh.keys)
    }

    /// A failed signal is not retried here: one not stopped is found by the
    /// wait below, one not killed by the caller's check that the init is gone.
    private func send(_ sig: Int32, to pidfd: Int32) {
        try? kernel.signal(pidfd: pidfd, sig)  // not retried here: see above
    }

    /// SIGKILLs every process of the container and waits (a few seconds at
    /// most) until none is left, forks during the kill included.
    package func kill() {
        let start = kernel.now()
        // The kernel kills the whole cgroup at once (Linux 5.14+); without
        // cgroup.kill, freeze it so that nothing there forks while we list it.
        if !cgroup.killAll() { freezeCgroup() }
        defer { thawCgroup() }
        if initEndsNamespace, let fd = members[initPID] { send(SIGKILL, to: fd) }
        // Stop before killing: a stopped process cannot fork, and a parent killed
        // first would hand its children to a reaper outside the container.
        var stopped = Set<Int32>()
        while kernel.now() - start < 5 {
            let fresh = signalNewMembers(SIGSTOP, sent: &stopped)
            if fresh.isEmpty { break }
            while kernel.now() - start < 5 && !fresh.allSatisfy(isHeld) { kernel.sleep(microseconds: 2_000) }
        }
        FaultPoint.reached("kill.stopped")
        for (_, fd) in members.sorted(by: { $0.key < $1.key }) { send(SIGKILL, to: fd) }
        // Until all are gone; one that escaped the stop is found and killed
        // here, and one whose SIGKILL failed gets another.
        while kernel.now() - start < 10 {
            refresh()
            if members.isEmpty { break }
            for (_, fd) in members.sorted(by: { $0.key < $1.key }) { send(SIGKILL, to: fd) }
            kernel.sleep(microseconds: 5_000)
        }
    }

    /// Stopped, gone, or frozen by us: it cannot fork any more.
    private func isHeld(_ pid: Int32) -> Bool {
        guard let fd = members[pid], !kernel.hasExited(fd), let s = procStat(pid) else { return true }
        if s.state == "T" || s.state == "t" || s.state == "Z" || s.state == "X" { return true }
        return cgroupFrozenByUs && cgroupPIDs.contains(pid)
    }

    private func freezeCgroup() {
        if !cgroupFrozenByUs && cgroup.holdStill() { cgroupFrozenByUs = true }
    }

    private func thawCgroup() {
        guard cgroupFrozenByUs else { return }
        // Best effort: a thaw that fails leaves what the kill or signal did.
        try? cgroup.freeze(false)
        cgroupFrozenByUs = false
    }

    static let maxRounds = 1000

    private func procStat(_ pid: Int32) -> (state: Character, ppid: Int32)? {
        kernel.processStat(pid).flatMap(Self.parseStat)
    }

    /// Fields 3 and 4 of /proc/PID/stat, counted from the last ')' (the name may hold any).
    static func parseStat(_ text: String) -> (state: Character, ppid: Int32)? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", maxSplits: 3)
        guard fields.count >= 2, let state = fields[0].first, let ppid = Int32(fields[1]) else { return nil }
        return (state, ppid)
    }

    /// The last NSpid entry: the pid in the process's own (innermost) PID namespace.
    private static func innermostPID(_ pid: Int32, in kernel: KernelInterface) -> Int32? {
        guard let text = kernel.processStatus(pid) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("NSpid:") {
            return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).last.flatMap { Int32($0) }
        }
        return nil
    }
}
