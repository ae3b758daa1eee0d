import NookKernel

/// What `RunSequence`, `CreateSequence` and `ExecSequence` share: the
/// runtime they work through and the container they work on.
protocol ContainerSequence: AnyObject {
    var runtime: Runtime { get }
    var id: String { get }
}

extension ContainerSequence {
    var kernel: KernelInterface { runtime.kernel }
    var store: StateStore { runtime.store }
    var directory: String { store.directory(id) }
}
