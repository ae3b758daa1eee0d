import NookCore

/// The points of the lifecycle where OCI hooks run, in the order the spec lists them.
package enum HookPoint: String, Sendable, CaseIterable {
    case prestart, createRuntime, createContainer, startContainer, poststart, poststop

    /// A failing hook fails the operation, except after the container started
    /// (poststart) or ended (poststop): those are reported and ignored.
    package var fatal: Bool { self != .poststart && self != .poststop }
}

extension Spec {
    package func hooks(at point: HookPoint) -> [Hook] {
        guard let h = hooks else { return [] }
        switch point {
        case .prestart: return h.prestart ?? []
        case .createRuntime: return h.createRuntime ?? []
        case .createContainer: return h.createContainer ?? []
        case .startContainer: return h.startContainer ?? []
        case .poststart: return h.poststart ?? []
        case .poststop: return h.poststop ?? []
        }
    }
}
