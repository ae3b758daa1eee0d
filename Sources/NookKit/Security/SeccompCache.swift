import Synchronization

/// Compiled filters by profile, for a process that starts several containers
/// (test harnesses using NookKit); libseccomp's compile is the costly part.
public enum SeccompCache {
    private static let cache = Mutex<[SeccompProfile: [UInt8]]>([:])

    public static func compile(_ profile: SeccompProfile) throws -> [UInt8] {
        if let hit = cache.withLock({ $0[profile] }) { return hit }
        let bpf = try profile.compile()
        cache.withLock { $0[profile] = bpf }
        return bpf
    }
}
