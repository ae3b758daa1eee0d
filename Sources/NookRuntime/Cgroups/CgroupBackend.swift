import Glibc
import NookCore
import NookKernel
import NookSpec

/// A container's cgroup, whichever kind this host gives it (crun's cgroup
/// manager table is the model): none (`NoCgroupBackend`), a directory in a
/// delegated cgroup v2 tree (`DelegatedV2Backend`), or a recording fake in
/// unit tests (`FakeCgroupBackend`). The runtime calls these steps and never
/// asks which kind it has; `CgroupHost` picks it.
package protocol CgroupBackend: AnyObject {
    /// The cgroup's path, kept in the container's state; nil: it has none.
    var path: String? { get }
    /// Makes the container's cgroup and writes its limits, before the clone.
    func create() throws
    /// A directory fd for clone3(CLONE_INTO_CGROUP), so a process (the
    /// container's init, an exec, a hook) starts inside; -1: it starts in
    /// nook's own cgroup. The caller closes it.
    func openForClone() throws -> Int32
    /// The kernel's OOM killer killed a process in it (memory.events).
    func oomKilled() -> Bool
    /// What `nook stats` shows.
    func stats(id: String) throws -> ContainerStats
    /// `nook pause` / `unpause`.
    func freeze(_ frozen: Bool) throws
    /// Frozen, as the kernel reports it (the OCI status "paused").
    var isFrozen: Bool { get }
    /// Freezes it, so nothing in it forks, and waits until the kernel says so
    /// (2 s at most); not if it is frozen already (a user's pause). True when it froze it.
    func holdStill() -> Bool
    /// Kills every process in it at once (cgroup.kill); false where it cannot.
    func killAll() -> Bool
    /// Pids in it and in the cgroups below it.
    func pids() -> Set<Int32>
    /// Kills anything left in it and removes it. Only a cgroup this backend
    /// created, or one recorded in a container's state: never someone else's.
    func remove() throws
}

/// Picks a container's cgroup backend: the one place that decides whether
/// there is a cgroup and what kind.
package protocol CgroupHost {
    /// For a new container: from what this host delegates to the caller and
    /// what the container asks for (CgroupPlacement). Throws when it asks for
    /// limits that cannot be had here, or for an unusable cgroupsPath.
    func backend(forNew id: String, limits: CgroupLimits, cgroupsPath: String?, tracer: Tracer) throws -> CgroupBackend
    /// For a container that exists: the cgroup recorded in its state (nil: none).
    func backend(of id: String, recordedPath: String?) -> CgroupBackend
}

/// This host's cgroups, as `/proc/self/mountinfo` and `/proc/self/cgroup`
/// show them when a container is made (or as a unit test says).
package struct LiveCgroupHost: CgroupHost {
    let environment: CgroupEnvironment?
    let view: CgroupView

    package init(environment: CgroupEnvironment? = nil, view: CgroupView = LiveCgroupView()) {
        self.environment = environment
        self.view = view
    }

    package func backend(forNew id: String, limits: CgroupLimits, cgroupsPath: String?, tracer: Tracer) throws -> CgroupBackend {
        // Now, not earlier: nook may have moved itself between two runs of a --restart policy.
        let environment = self.environment ?? .detect()
        switch try CgroupPlacement.decide(environment: environment, id: id, limits: limits, cgroupsPath: cgroupsPath, view: view) {
        case let .none(reason):
            return NoCgroupBackend(id: id, reason: reason, tracer: tracer)
        case let .create(dir, parent, leaveOwn):
            return DelegatedV2Backend(dir: dir, parent: parent, leaveOwn: leaveOwn, limits: limits, environment: environment, tracer: tracer)
        }
    }

    package func backend(of id: String, recordedPath: String?) -> CgroupBackend {
        // Gone already (removed by a command that was killed right after): nothing to do there.
        guard let path = recordedPath, HostPath.isDirectory(path) else {
            return NoCgroupBackend(id: id, reason: "no cgroup recorded", tracer: nil)
        }
        return DelegatedV2Backend(recorded: path)
    }
}
