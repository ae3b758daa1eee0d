/// An overlay the child mounts as the container's root, as plain data: the
/// options string is final (decided in NookRuntime's RootOverlay), its layer
/// paths relative to `directory`, where the child changes to before mounting.
package struct OverlayMount: Sendable, Equatable {
    package var directory: String
    package var options: String
    package var readOnly: Bool
    /// `volatile` is among the options (for --trace to say why).
    package var volatile: Bool

    package init(directory: String, options: String, readOnly: Bool, volatile: Bool = false) {
        self.directory = directory
        self.options = options
        self.readOnly = readOnly
        self.volatile = volatile
    }
}
