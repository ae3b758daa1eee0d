/// The signal `nook stop` sends first, when the container's spec names one
/// (an image's StopSignal, under OCI's annotation for it); else SIGTERM.
package enum StopSignalAnnotation {
    package static let key = "org.opencontainers.image.stopSignal"
}
