import NookKernel
import NookSpec

extension WindowSize {
    /// `process.consoleSize`, clamped to what a pty can have.
    init(_ size: Spec.ConsoleSize) {
        self.init(rows: UInt16(clamping: size.height), columns: UInt16(clamping: size.width))
    }
}
