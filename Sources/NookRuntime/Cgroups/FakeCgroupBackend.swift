import Glibc
import NookCore
import NookKernel
import NookSpec

/// A cgroup backend for unit tests of the runtime's sequences (run, create,
/// exec, delete): it records every call in order, and fails the calls it is
/// told to with an errno. It is its own `CgroupHost`: every container, new or
/// existing, gets this one backend.
///
///     let cgroups = FakeCgroupBackend()
///     cgroups.fail(.create, errno: EACCES)
///     let runtime = try Runtime(stateRoot: dir, kernel: kernel, cgroups: cgroups)
///     ... XCTAssertEqual(cgroups.calls, [.choose, .create, .remove])
/// Not final: a sequence test's subclass also puts each call in the kernel
/// fake's timeline (Tests/NookKitTests/RecordingSeams.swift).
package class FakeCgroupBackend: CgroupHost, CgroupBackend, @unchecked Sendable {
    package enum Call: String, Sendable, Equatable, CaseIterable {
        /// `CgroupHost.backend(forNew:)` (it fails as a refused placement would) or `backend(of:)`.
        case choose, create, openForClone, oomKilled, stats, freeze, thaw, holdStill, killAll, pids, remove
    }

    package private(set) var calls: [Call] = []
    /// The limits the last new container asked for.
    package private(set) var limits = CgroupLimits()
    /// Calls that fail, with the errno they fail with. A call that cannot
    /// throw answers as a cgroup that cannot do it (false, no pids).
    package private(set) var failing: [Call: Int32] = [:]
    /// The path recorded in the state; nil makes it behave as no cgroup.
    package var path: String?
    package var oomKill = false
    package var members: Set<Int32> = []
    package private(set) var isFrozen = false

    package init(path: String? = "/sys/fs/cgroup/fake/nook-test") { self.path = path }

    package func fail(_ call: Call, errno: Int32) { failing[call] = errno }

    /// A new container is being made (a subclass names its path after it).
    func newContainer(_ id: String) {}

    /// Records the call; throws its errno when it is to fail.
    func record(_ call: Call) throws {
        calls.append(call)
        if let e = failing[call] { throw NookError.sys("cgroup \(call.rawValue) (fake)", errno: e) }
    }

    private func succeeds(_ call: Call) -> Bool { (try? record(call)) != nil }  // a call told to fail answers as a cgroup that cannot do it

    package func backend(forNew id: String, limits: CgroupLimits, cgroupsPath: String?, tracer: Tracer) throws -> CgroupBackend {
        self.limits = limits
        newContainer(id)
        try record(.choose)
        return self
    }

    package func backend(of id: String, recordedPath: String?) -> CgroupBackend {
        calls.append(.choose)
        path = recordedPath
        return self
    }

    package func create() throws { try record(.create) }

    /// A real fd (of /dev/null), so that the caller's close is harmless; -1 without a path.
    package func openForClone() throws -> Int32 {
        try record(.openForClone)
        return path == nil ? -1 : open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    package func oomKilled() -> Bool { succeeds(.oomKilled) && oomKill }

    package func stats(id: String) throws -> ContainerStats {
        try record(.stats)
        return ContainerStats(id: id, memoryCurrent: 0, memoryPeak: nil, memoryMax: "max", pidsCurrent: UInt64(members.count),
                              pidsMax: "max", cpuUsageMicroseconds: 0, throttledPeriods: 0, throttledMicroseconds: 0)
    }

    package func freeze(_ frozen: Bool) throws {
        try record(frozen ? .freeze : .thaw)
        isFrozen = frozen
    }

    package func holdStill() -> Bool {
        guard !isFrozen, succeeds(.holdStill) else { return false }
        isFrozen = true
        return true
    }

    package func killAll() -> Bool {
        guard succeeds(.killAll) else { return false }
        members = []
        return true
    }

    package func pids() -> Set<Int32> { succeeds(.pids) ? members : [] }

    package func remove() throws { try record(.remove) }
}
