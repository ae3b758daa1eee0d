import Glibc
import Synchronization
import NookCore
import NookKernel
import NookSpec

/// Compiling a filter with libseccomp costs milliseconds (most of a start-up):
/// compiled filters are kept in memory for this process and on disk in the
/// user's private state directory, keyed by a hash of the profile. Each
/// Runtime has its own (its state root's); the memory is shared by all, as
/// a profile compiles to the same program whoever asks.
package struct SeccompCache: Sendable {
    private static let memory = Mutex<[SeccompProfile: [UInt8]]>([:])
    /// `<state root>/.seccomp` (0700, the caller's own); nil: memory only.
    package let directory: String?

    package init(directory: String? = nil) {
        self.directory = directory
    }

    package func compile(_ profile: SeccompProfile) throws -> [UInt8] {
        if let hit = Self.memory.withLock({ $0[profile] }) { return hit }
        let file = directory.map { "\($0)/\(Self.key(profile)).bpf" }
        // a missing or unreadable cache entry is compiled afresh
        if let file, let bytes = try? HostPath.readBytes(file), !bytes.isEmpty, bytes.count % 8 == 0 {
            Self.memory.withLock { $0[profile] = bytes }
            return bytes
        }
        let bpf = try profile.compile()
        Self.memory.withLock { $0[profile] = bpf }
        if let dir = directory, let file {
            // Write then rename: a concurrent reader sees all of it or nothing.
            if mkdir(dir, 0o700) == 0 || errno == EEXIST {
                let tmp = file + ".\(getpid()).tmp"
                // the cache is an optimisation: a directory we cannot write just means no cache
                if (try? HostPath.writeText(tmp, "", create: true, mode: 0o600)) != nil {
                    let fd = open(tmp, O_WRONLY | O_TRUNC | O_CLOEXEC)
                    if fd >= 0 {
                        let ok = bpf.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bpf.count
                        close(fd)
                        if ok { rename(tmp, file) } else { unlink(tmp) }
                    }
                }
            }
        }
        return bpf
    }

    /// FNV-1a over every field of the profile (stable for equal profiles;
    /// no reflection-based description, which costs milliseconds).
    static func key(_ profile: SeccompProfile) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 { hash ^= UInt64(byte); hash = hash &* 0x100_0000_01b3 }
            hash ^= 0xff
            hash = hash &* 0x100_0000_01b3
        }
        func mix(_ action: SeccompProfile.Action) {
            let (kind, value) = action.c
            mix("\(kind):\(value)")
        }
        mix("nook-seccomp-v2")
        mix(profile.defaultAction)
        profile.architectures.forEach { mix($0) }
        for rule in profile.rules {
            mix("rule")
            rule.names.forEach { mix($0) }
            mix(rule.action)
            for arg in rule.args { mix("\(arg.index) \(arg.op.rawValue) \(arg.value) \(arg.valueTwo)") }
        }
        return String(hash, radix: 16)
    }
}
