import NookCore
import NookKernel
import NookSpec


/// What `nook --version` prints. podman records the whole text as the
/// runtime's version in `podman info`, the way it records crun's.
package enum NookVersion {
    package static let number = "0.10.0"

    /// Features compiled in (+) or not (-), in crun's notation.
    package static let features = ["+SECCOMP", "+SEALED-EXEC", "+PIDFD", "+USERNS", "+CGROUPV2", "-SYSTEMD", "-SELINUX", "-APPARMOR", "-CRIU"]

    package static var libseccomp: String { SeccompProfile.libraryVersion }

    /// `stateRoot`: where this caller's containers live (runc and crun call it the rundir).
    package static func text(stateRoot: String) -> String {
        """
        nook version \(number)
        spec: \(Spec.version) (reads \(OCIVersion.supported))
        libseccomp: \(libseccomp)
        rundir: \(stateRoot)
        \(features.joined(separator: " "))
        """
    }
}
