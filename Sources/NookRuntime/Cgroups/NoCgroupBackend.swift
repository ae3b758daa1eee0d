import NookCore
import NookKernel
import NookSpec

/// No cgroup of the container's own: nothing was delegated to the caller and
/// no limit was asked for. The container runs in nook's cgroup; --trace says why.
package final class NoCgroupBackend: CgroupBackend {
    let id: String
    let reason: String
    let tracer: Tracer?

    package init(id: String, reason: String, tracer: Tracer?) {
        self.id = id
        self.reason = reason
        self.tracer = tracer
    }

    package var path: String? { nil }
    package func create() throws { tracer?.emit("cgroup", "(none)", reason) }
    package func openForClone() throws -> Int32 { -1 }
    package func oomKilled() -> Bool { false }
    package func stats(id: String) throws -> ContainerStats { throw noCgroup }
    package func freeze(_ frozen: Bool) throws { throw noCgroup }
    package var isFrozen: Bool { false }
    package func holdStill() -> Bool { false }
    package func killAll() -> Bool { false }
    package func pids() -> Set<Int32> { [] }
    package func remove() throws {}

    var noCgroup: NookError {
        NookError("container '\(id)' has no cgroup", hint: "cgroup v2 was not delegated when it started; see Docs/cgroups.md")
    }
}
