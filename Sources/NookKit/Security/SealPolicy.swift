/// Which nook commands run from the sealed copy of the binary
/// (`SealedBinary`), and why.
///
/// The kernel lets a process open /proc/PID/exe of another only with the same
/// uid and, besides, either the same user namespace and at least the other's
/// capabilities, or CAP_SYS_PTRACE over the other's user namespace (commoncap,
/// `cap_ptrace_access_check`); and, if the other is not dumpable, with
/// CAP_SYS_PTRACE over the user namespace its memory was made in. So nook on
/// the host side (`run` and the monitor supervising, `create`, `start`,
/// `kill`...) is out of a container's reach as long as the container has a
/// user namespace of its own, even when it shares nook's PID namespace and
/// sees nook through the host's /proc. What is in reach is nook's code after
/// it joined the container's user namespace and dropped to the container's
/// capabilities: `create`'s waiting init, the child of `exec`'s helper until
/// it execs, `--init`'s init. The last two are non-dumpable, but that holds
/// only against a container without CAP_SYS_PTRACE in the user namespace
/// nook runs in: under rootless podman, nook runs in podman's user namespace,
/// which is the container's too, and `--cap-add SYS_PTRACE` lifts it. The
/// sealed copy holds whatever the container's capabilities.
///
/// Always sealed (the CLI calls `SealedBinary.ensure()` first thing):
/// - `create`: its clone waits in the container until `start`, as nook's
///   code, and must stay dumpable: `exec`, hooks and podman open its
///   /proc/PID/ns.
/// - `exec`: its helper's child is nook's code in the container until it
///   execs the command.
///
/// The copy costs start-up time and memory (the binary's size, held as long
/// as the process or a clone of it runs), so the rest only when they must.
public enum SealPolicy {
    /// `run` in the foreground with `--init`: its clone stays in the container
    /// as PID 1. Otherwise not, and `nook run` starts as fast as before: its
    /// clone execs the command before any other process of the container
    /// exists, and `run` itself is outside the container's user namespace.
    /// `run -d` only waits for the monitor (`monitor(initProcess:)`).
    public static func run(initProcess: Bool, detached: Bool) -> Bool {
        initProcess && !detached
    }

    /// The `run -d` monitor: with `--init`, its clone is the container's PID 1
    /// for the container's whole life. Without, it is `run` in the foreground.
    public static func monitor(initProcess: Bool) -> Bool {
        initProcess
    }

    /// `start`: startContainer hooks enter the container as `exec` does.
    public static func start(_ spec: Spec) -> Bool {
        !(spec.hooks?.startContainer ?? []).isEmpty
    }
}
