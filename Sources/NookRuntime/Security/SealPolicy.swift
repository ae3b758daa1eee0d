import Glibc
import NookCore
import NookKernel
import NookSpec

/// Which nook commands run from the sealed copy of the binary
/// (`SealedBinary`), and why.
///
/// The kernel opens another process's /proc/PID/exe only for a caller with
/// the same uid and, besides, either the same user namespace and at least the
/// other's capabilities, or CAP_SYS_PTRACE over the other's user namespace
/// (commoncap, `cap_ptrace_access_check`); and, if the other is not
/// dumpable, CAP_SYS_PTRACE over the user namespace its memory was made in
/// (nook's own). So nook on the host side (`run` and the monitor
/// supervising, `create`, `start`, `kill`...) is out of a container's reach,
/// even when the container shares nook's PID namespace and sees nook through
/// the host's /proc. In reach is nook's code that joined the container's user
/// namespace and dropped to its capabilities:
/// - `create`'s clone, while it sets the container up. It is dumpable (its
///   id maps are written through its /proc files), but only until it execs
///   the start waiter (`StartWaiter`), which holds no nook code and waits
///   non-dumpable. While it is a clone of nook, the container runs nothing
///   else; only processes already in its user namespace could reach it: none
///   when that namespace is its own new one. When the namespace is nook's, or
///   another one given by path, `create` runs sealed.
/// - the child of the helper that `exec` (and `start`, for startContainer
///   hooks) clones, until it execs; `--init`'s init (`run`, and the `run -d`
///   monitor), for the container's whole life. Both are non-dumpable, which
///   is enough unless the container holds CAP_SYS_PTRACE in nook's user
///   namespace: only when it has none of its own (rootless podman's config,
///   nook running in podman's user namespace; or real root without one).
///   There, and only there, those commands run sealed too.
/// - the port forwarder (`nook __forward`, `-p` with `--network none`), for
///   the container's whole life. It makes itself non-dumpable before it joins,
///   so its memory was made in nook's user namespace; it is started only for
///   a container with a user namespace of its own (`LiveNetworkSetup.check`),
///   whose processes hold nothing over nook's: it never needs the seal.
///
/// The copy costs start-up time and memory (the binary's size, held as long
/// as the process or a clone of it runs): `nook run` and `nook exec` into a
/// container with a user namespace of its own do not pay it.
package enum SealPolicy {
    /// `create`: its clone is nook's code, dumpable, in the container's user
    /// namespace until it execs the start waiter. createContainer hooks enter
    /// the container as `exec` does, which this covers too.
    package static func create(_ spec: Spec) -> Bool {
        !createsUserNamespace(spec)
    }

    /// `exec`: its helper's child is nook's code in the container until it execs.
    package static func exec(_ spec: Spec) -> Bool {
        sharesNooksUserNamespace(spec)
    }

    /// `start`: startContainer hooks enter the container as `exec` does.
    package static func start(_ spec: Spec) -> Bool {
        !(spec.hooks?.startContainer ?? []).isEmpty && sharesNooksUserNamespace(spec)
    }

    /// `run` in the foreground with `--init`: its clone stays in the container
    /// as PID 1. Without `--init`, its clone execs the command before any
    /// other process of the container exists. `run -d` only waits for the
    /// monitor (`monitor(_:initProcess:)`).
    package static func run(_ spec: Spec, initProcess: Bool, detached: Bool) -> Bool {
        initProcess && !detached && sharesNooksUserNamespace(spec)
    }

    /// The `run -d` monitor: with `--init`, its clone is the container's PID 1.
    package static func monitor(_ spec: Spec, initProcess: Bool) -> Bool {
        initProcess && sharesNooksUserNamespace(spec)
    }

    /// A user namespace of its own, new: no process but the container's is in it.
    package static func createsUserNamespace(_ spec: Spec) -> Bool {
        spec.linux?.namespaces?.contains { $0.type == "user" && ($0.path ?? "").isEmpty } ?? false
    }

    /// No user namespace of its own, or one given by a path that is nook's own.
    package static func sharesNooksUserNamespace(_ spec: Spec) -> Bool {
        guard let user = spec.linux?.namespaces?.first(where: { $0.type == "user" }) else { return true }
        guard let path = user.path else { return false }
        var theirs = stat(), ours = stat()
        guard stat(path, &theirs) == 0, stat("/proc/self/ns/user", &ours) == 0 else { return true }
        return theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev
    }
}
