import Glibc
import NookCore

/// What this kernel says about itself, read from /proc/sys.
package enum KernelFacts {
    /// The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap),
    /// at most 63 (the masks are 64 bits); `known - 1` where it cannot be read.
    package static func lastCapability(known: Int = 41) -> Int {
        // unreadable /proc/sys: fall back to the capabilities we know
        if let text = try? HostPath.readText("/proc/sys/kernel/cap_last_cap"),
           let n = Int(text.trimmingCharacters(in: " \n")) { return min(n, 63) }
        return known - 1
    }
}
