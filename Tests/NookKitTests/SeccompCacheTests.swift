import Glibc
import Testing
@testable import NookKernel
@testable import NookRuntime

/// Each Runtime keeps compiled filters under its own state root: two
/// runtimes in one process (two harnesses, two users' roots) never write
/// into each other's (there was one global directory, set by the last
/// Runtime made).
@Suite struct SeccompCacheTests {
    @Test func eachRuntimeCachesUnderItsOwnStateRoot() throws {
        let tmp = try TempDir("nook-seccomp-cache")
        defer { tmp.remove() }
        let first = try Runtime(stateRoot: tmp.path + "/first", environment: [:])
        let second = try Runtime(stateRoot: tmp.path + "/second", environment: [:])
        // A profile of its own, so this process's memory cache has not seen it.
        let profile = SeccompProfile(defaultAction: .allow, architectures: [],
                                     rules: [.init(names: ["mknod"], action: .errno(Int32.random(in: 1...4095)))], name: "test")
        let program = try first.seccompCache.compile(profile)
        #expect(!program.isEmpty)
        let file = "/.seccomp/\(SeccompCache.key(profile)).bpf"
        #expect(access(tmp.path + "/first" + file, F_OK) == 0)
        #expect(access(tmp.path + "/second" + file, F_OK) != 0)
        // The second runtime reads from memory, and writes nothing of the first's.
        #expect(try second.seccompCache.compile(profile) == program)
        #expect(access(tmp.path + "/second" + file, F_OK) != 0)
    }
}
