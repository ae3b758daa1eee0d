import NookCore
import NookKernel
import NookSpec


/// What `nook --version` prints. podman records the whole text as the
/// runtime's version in `podman info`, the way it records crun's.
public enum NookVersion {
    public static let number = "0.10.0"

    /// Features compiled in (+) or not (-), in crun's notation.
    public static let features = ["+SECCOMP", "+SEALED-EXEC", "+PIDFD", "+USERNS", "+CGROUPV2", "-SYSTEMD", "-SELINUX", "-APPARMOR", "-CRIU"]

    public static var libseccomp: String { SeccompProfile.libraryVersion }

    /// `stateRoot`: where this caller's containers live (runc and crun call it the rundir).
    public static func text(stateRoot: String) -> String {
        """
        nook version \(number)
        spec: \(Spec.version) (reads \(OCIVersion.supported))
        libseccomp: \(libseccomp)
        rundir: \(stateRoot)
        \(features.joined(separator: " "))
        """
    }
}
