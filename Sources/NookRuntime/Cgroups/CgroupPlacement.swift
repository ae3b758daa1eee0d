import Glibc
import NookCore
import NookKernel
import NookSpec

/// Where cgroup v2 lives on this host and what the caller may do with it.
package struct CgroupEnvironment: Sendable, Equatable {
    /// The cgroup2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts.
    package var mount: String?
    /// cgroup v1 hierarchies are mounted too (memory, cpu, pids live there).
    package var hybrid: Bool
    /// Our own cgroup, from /proc/self/cgroup ("0::/user.slice/...").
    package var ownPath: String?

    package static func detect() -> CgroupEnvironment {
        var mount: String?
        var hybrid = false
        // no mountinfo: no cgroup2 mount found, so no cgroup (said under --trace)
        if let text = try? HostPath.readText("/proc/self/mountinfo") {
            for line in text.split(separator: "\n") {
                // id parent dev root mountpoint options [optional...] - fstype source options
                let fields = line.split(separator: " ")
                guard fields.count > 5, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
                let fstype = fields[dash + 1]
                if fstype == "cgroup2" && mount == nil { mount = String(fields[4]) }
                if fstype == "cgroup" { hybrid = true }
            }
        }
        var own: String?
        // no /proc/self/cgroup: our cgroup is unknown, so none is delegated to us
        if let text = try? HostPath.readText("/proc/self/cgroup") {
            for line in text.split(separator: "\n") where line.hasPrefix("0::") { own = String(line.dropFirst(3)) }
        }
        return CgroupEnvironment(mount: mount, hybrid: hybrid, ownPath: own)
    }

    /// The controllers a cgroup directory offers its children.
    package static func controllers(_ dir: String) -> Set<String> {
        // unreadable: no controllers available there
        guard let text = try? HostPath.readText(dir + "/cgroup.controllers") else { return [] }
        return Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    static func writable(_ path: String) -> Bool { access(path, W_OK) == 0 }
}

/// What the placement decision reads: the live cgroup filesystem, or a fake in unit tests.
package protocol CgroupView {
    func writable(_ path: String) -> Bool
    func read(_ path: String) -> String?
}

package struct LiveCgroupView: CgroupView {
    package init() {}
    package func writable(_ path: String) -> Bool { CgroupEnvironment.writable(path) }
    // the view answers nil for a file it cannot read; placement then finds no delegation
    package func read(_ path: String) -> String? { try? HostPath.readText(path) }
}

/// Where a container's cgroup goes, decided before anything is written (a
/// leaf, created before the container runs and removed after it), by what was
/// delegated to us:
///  - next to our own cgroup (its parent is ours: systemd's Delegate=yes on a
///    unit we run in, or an administrator's chown), as `<parent>/nook-<id>`;
///  - otherwise below our own cgroup, if that one is ours and nook is alone in
///    it: we first move ourselves into `<own>/nook-supervisor`, because a
///    cgroup with processes cannot give controllers to children (the
///    no-internal-processes rule), and move back when the container is gone;
///  - `linux.cgroupsPath`, when given: relative to that base, or, absolute,
///    relative to the cgroup2 mount.
package enum CgroupPlacement: Sendable, Equatable {
    /// No cgroup of its own; the reason is said under --trace.
    case none(reason: String)
    /// `dir` is created (its parent is `parent`); with `leaveOwn`, nook first
    /// moves itself from that cgroup (its own) into `<leaveOwn>/nook-supervisor`.
    case create(dir: String, parent: String, leaveOwn: String?)
}

extension CgroupPlacement {
    /// Controllers that ration something (hugetlb alone, as on hybrid hosts, is not worth a cgroup).
    static let resourceControllers: Set<String> = ["cpu", "cpuset", "io", "memory", "pids"]

    /// The placement decision, from what `view` shows. Throws when limits were
    /// asked for and cannot be had, or when the cgroupsPath is unusable.
    package static func decide(environment: CgroupEnvironment, id: String, limits: CgroupLimits,
                              cgroupsPath: String? = nil, pid: Int32 = getpid(),
                              view: CgroupView = LiveCgroupView()) throws -> CgroupPlacement {
        guard let mount = environment.mount, let own = environment.ownPath else {
            if limits.isEmpty { return .none(reason: "no cgroup2 mount here: the container runs without resource limits") }
            throw NookError("resource limits need cgroup v2, and this host has no cgroup2 mount",
                            hint: "boot with systemd.unified_cgroup_hierarchy=1, or run without limits")
        }
        func controllers(_ dir: String) -> Set<String> {
            Set((view.read(dir + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        }
        // A hybrid host's cgroup2 tree (systemd's, at /sys/fs/cgroup/unified)
        // rations nothing: without limits, create nothing there, even as root.
        if limits.isEmpty && environment.hybrid && controllers(mount).isDisjoint(with: resourceControllers) {
            return .none(reason: "hybrid host: the cgroup2 tree at \(mount) has no resource controllers, so nook creates nothing there; the container runs without resource limits")
        }
        let ownDir = mount + (own == "/" ? "" : own)
        let parentDir = ownDir == mount ? nil : String(ownDir[..<ownDir.lastIndex(of: "/")!])
        var base: String?
        var belowOwn = false
        var refusal: NookError?
        if let parentDir, view.writable(parentDir), view.writable(parentDir + "/cgroup.procs") {
            base = parentDir
        } else if view.writable(ownDir), view.writable(ownDir + "/cgroup.procs"), view.writable(ownDir + "/cgroup.subtree_control") {
            // We must be alone in our cgroup to move into a leaf and enable controllers for children.
            let others = (view.read(ownDir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }.filter { $0 != pid }
            if others.isEmpty {
                base = ownDir
                belowOwn = true
            } else {
                refusal = NookError("nook's cgroup \(own) is delegated to you, but other processes share it (pids \(others.prefix(5).map(String.init).joined(separator: ", "))\(others.count > 5 ? ", ..." : "")): a cgroup with processes cannot hand controllers to a container's cgroup below it (cgroup v2's no-internal-processes rule)",
                                    hint: "start nook in a cgroup of its own: systemd-run --user --scope -p Delegate=yes nook run ..., or move the other processes out of \(ownDir)")
            }
        }
        let dir = base.map { $0 + "/nook-" + id }
        if let path = cgroupsPath, !path.isEmpty {
            if path.contains(":") {
                // "slice:prefix:name" is for a systemd cgroup manager, which nook does not have.
            } else {
                let parts = path.split(separator: "/")
                guard !parts.contains(".."), !parts.contains("."), !parts.isEmpty else {
                    throw NookError("invalid linux.cgroupsPath '\(path)'", hint: "use a path without '.' or '..' components", kind: .invalidInput)
                }
                let target: String
                if path.hasPrefix("/") {
                    target = mount + "/" + parts.joined(separator: "/")
                } else if let base {
                    target = base + "/" + parts.joined(separator: "/")
                } else {
                    if limits.isEmpty { return .none(reason: refusal?.message ?? "cgroup \(own) is not delegated to this user: linux.cgroupsPath '\(path)' is not used and the container runs without resource limits") }
                    throw refusal ?? notDelegated(environment, own: own, mount: mount, view: view)
                }
                let parent = String(target[..<target.lastIndex(of: "/")!])
                guard view.writable(parent), view.writable(parent + "/cgroup.procs") || parent == ownDir else {
                    if limits.isEmpty {
                        return .none(reason: "linux.cgroupsPath '\(path)': \(parent) is not writable by you (not delegated): the container runs without a cgroup of its own")
                    }
                    throw NookError("linux.cgroupsPath '\(path)' means \(target), but \(parent) is not writable by you: it was not delegated to you",
                                    hint: "use a path inside your delegated cgroup (a relative path is placed next to nook's own cgroup), or remove linux.cgroupsPath")
                }
                let under = target.hasPrefix(ownDir + "/")
                if under && !belowOwn {
                    // Below our own cgroup: we must leave it first, as above.
                    guard refusal == nil, view.writable(ownDir + "/cgroup.subtree_control") else {
                        throw refusal ?? NookError("linux.cgroupsPath '\(path)' is below nook's own cgroup \(own), which is not delegated to you")
                    }
                    let others = (view.read(ownDir + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }.filter { $0 != pid }
                    if !others.isEmpty {
                        throw NookError("linux.cgroupsPath '\(path)' is below nook's own cgroup \(own), which other processes share (pids \(others.prefix(5).map(String.init).joined(separator: ", "))): a cgroup with processes cannot hand controllers to children",
                                        hint: "start nook in a cgroup of its own, or choose a path elsewhere")
                    }
                }
                return .create(dir: target, parent: parent, leaveOwn: under ? ownDir : nil)
            }
        }
        guard let base, let dir else {
            if limits.isEmpty {
                return .none(reason: refusal.map { "\($0.message): the container runs without resource limits" }
                             ?? "cgroup \(own) is not delegated to this user: the container runs without resource limits")
            }
            throw refusal ?? notDelegated(environment, own: own, mount: mount, view: view)
        }
        return .create(dir: dir, parent: base, leaveOwn: belowOwn ? ownDir : nil)
    }

    static func notDelegated(_ environment: CgroupEnvironment, own: String, mount: String, view: CgroupView) -> NookError {
        let rootControllers = Set((view.read(mount + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        if environment.hybrid && !rootControllers.contains("memory") {
            return NookError("resource limits need cgroup v2 controllers, but this host is hybrid: memory, cpu and pids live in cgroup v1, which an unprivileged user cannot use",
                             hint: "boot with systemd.unified_cgroup_hierarchy=1 (pure cgroup v2), or run without limits")
        }
        return NookError("resource limits need a delegated cgroup, and \(own) is not writable by you",
                         hint: "run under systemd with delegation: systemd-run --user -p Delegate=yes --scope nook run ..., or have an administrator chown a cgroup subtree to you")
    }

}
