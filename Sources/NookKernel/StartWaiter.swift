import CShims
import Glibc
import NookCore

/// Between `create` and `start`, the container's PID 1 is not a clone of
/// nook but `nook-wait` (CShims/waiter/waiter.c), a tiny static program embedded in
/// nook and executed from a sealed memfd once the setup is done (issue 15/16).
///
/// Why a program of its own: `exec` and startContainer hooks can run code in
/// the container while PID 1 waits. A clone of nook would hold nook's memory
/// (host paths, the spec, nook's environment) and could not be made
/// non-dumpable, because its memory belongs to nook's user namespace
/// (mm->user_ns): the namespace's owner on the host (`exec`, hooks, podman,
/// pasta) would lose /proc/PID/ns, and a container process with the same
/// capabilities could write it. After an execve in the container's user
/// namespace the memory is the container's: the waiter makes itself
/// non-dumpable, the owner keeps its access (it holds every capability there),
/// and a container process without CAP_SYS_PTRACE can neither read nor write it.
///
/// The waiter decides nothing: this type hands it its arguments.
enum StartWaiter {
    /// What the waiter needs, as `nook-wait SYNC FIFO SECCOMP INSTRUCTIONS TRACE K CANDIDATE... ARGV...`
    /// (the format CShims/waiter/waiter.c reads; its environment is the command's).
    static func arguments(syncFD: Int32, fifoFD: Int32, seccompFD: Int32, instructions: Int, trace: Bool,
                          candidates: [String], argv: [String]) -> [String] {
        ["nook-wait", "\(syncFD)", "\(fifoFD)", "\(seccompFD)", "\(instructions)", trace ? "1" : "0", "\(candidates.count)"]
            + candidates + argv
    }

    /// The filter goes to the waiter only when it loads it, that is under
    /// no_new_privs; otherwise the setup loaded it already (it needed
    /// CAP_SYS_ADMIN for that, before dropping to the container's user).
    static func filterForWaiter(_ plan: ChildPlan) -> [UInt8]? {
        plan.seccompPosition == .beforeExec && !plan.seccompFilter.isEmpty ? plan.seccompFilter : nil
    }

    /// A sealed memfd holding the waiter's executable: nothing in the
    /// container can write it while it runs or after.
    static func sealedImage() throws -> Int32 {
        var length = 0
        guard let image = nook_waiter_image(&length), length > 0 else {
            throw NookError("nook create is not supported on this architecture: nook has no start waiter for it",
                            hint: "Scripts/build-waiter.sh builds it for x86_64 and aarch64; use `nook run` here")
        }
        return try SealedBinary.sealedCopy(of: UnsafeRawBufferPointer(start: image, count: length),
                                           name: "nook-wait", what: "the start waiter")
    }

    /// The seccomp program, in a sealed memfd the waiter maps.
    static func sealedFilter(_ bytes: [UInt8]) throws -> Int32 {
        try bytes.withUnsafeBytes { try SealedBinary.sealedCopy(of: $0, name: "nook-seccomp", what: "the seccomp filter") }
    }
}
