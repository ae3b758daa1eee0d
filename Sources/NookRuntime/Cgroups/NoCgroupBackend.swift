import NookCore
import NookKernel
import NookSpec

/// No cgroup of the container's own: nothing was delegated to the caller and
/// no limit was asked for. The container runs in nook's cgroup; --trace says why.
public final class NoCgroupBackend: CgroupBackend {
    let id: String
    let reason: String
    let tracer: Tracer?

    public init(id: String, reason: String, tracer: Tracer?) {
        self.id = id
        self.reason = reason
        self.tracer = tracer
    }

    public var path: String? { nil }
    public func create() throws { tracer?.emit("cgroup", "(none)", reason) }
    public func openForClone() throws -> Int32 { -1 }
    public func oomKilled() -> Bool { false }
    public func stats(id: String) throws -> ContainerStats { throw noCgroup }
    public func freeze(_ frozen: Bool) throws { throw noCgroup }
    public var isFrozen: Bool { false }
    public func holdStill() -> Bool { false }
    public func killAll() -> Bool { false }
    public func pids() -> Set<Int32> { [] }
    public func remove() throws {}

    var noCgroup: NookError {
        NookError("container '\(id)' has no cgroup", hint: "cgroup v2 was not delegated when it started; see Docs/cgroups.md")
    }
}
