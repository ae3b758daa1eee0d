import NookCore
import NookSpec

/// podman's `nook create IMAGE`: a `run -d` container recorded with its spec
/// but never run. It is "stopped" with no start time (`nook ps -a` shows it as
/// created); `nook start` runs it under a monitor of its own as it would a
/// stopped `run -d` container (`restartDetached`), `nook rm` removes it and
/// its layer. Nothing runs until then: no process, no cgroup.
extension Runtime {
    package func createDetached(_ spec: Spec, id: String, initProcess: Bool, removeOnExit: Bool, restartPolicy: RestartPolicy) throws {
        try restartPolicy.check(removeOnExit: removeOnExit)
        reconcile()
        let lock = try store.reserve(id)
        defer { lock.release() }
        do {
            try writeJSON(spec, to: store.directory(id) + "/" + Self.specName)
            var record = ContainerState(id: id, status: .stopped, pid: 0, startTime: 0, bundle: store.directory(id),
                                        rootfs: spec.root?.path ?? "", mode: .detached, created: Self.timestamp())
            record.annotations = spec.annotations
            record.command = spec.process?.args?.joined(separator: " ")
            record.removeOnExit = removeOnExit ? true : nil
            record.initProcess = initProcess ? true : nil
            record.restartPolicy = restartPolicy == .no ? nil : restartPolicy.description
            record.incarnation = Runtime.generateID()
            try store.write(record)
        } catch {
            store.remove(id)
            throw error
        }
    }
}

extension ContainerState {
    /// Made by `nook create IMAGE`, never started (`createDetached`).
    package var neverStarted: Bool { mode == .detached && status == .stopped && started == nil && exitCode == nil }
}
