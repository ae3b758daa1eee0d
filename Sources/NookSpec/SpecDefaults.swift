import NookCore

/// The defaults a rootless container gets when the user does not say otherwise
/// (the same shape as `runc spec --rootless`, with podman's choices).
package enum SpecDefaults {
    package static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The namespaces of a `nook run`: all of them.
    package static let namespaces: [Spec.Namespace] = ["user", "mount", "pid", "network", "uts", "ipc", "cgroup"]
        .map { Spec.Namespace(type: $0) }

    package static let mounts: [Spec.Mount] = [
        .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
        .init(destination: "/dev", type: "tmpfs", source: "tmpfs",
              options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        .init(destination: "/dev/pts", type: "devpts", source: "devpts",
              options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        .init(destination: "/dev/shm", type: "tmpfs", source: "shm",
              options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
        .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
        .init(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
              options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
    ]

    /// Paths a container should not read (kernel memory, timers, keys...).
    package static let maskedPaths = [
        "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]

    /// Paths a container may read but never write.
    package static let readonlyPaths = [
        "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ]

    /// podman's default capability set for a container's process.
    package static let capabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
    ]

    /// A complete rootless spec for `args` in `rootfs`.
    package static func spec(rootfs: String, args: [String], hostname: String?) -> Spec {
        Spec(
            process: Spec.Process(
                user: Spec.User(uid: 0, gid: 0),
                args: args,
                env: ["PATH=\(path)", "HOME=/root"],
                cwd: "/",
                capabilities: Spec.Capabilities(bounding: capabilities, effective: capabilities,
                                                inheritable: [], permitted: capabilities, ambient: []),
                noNewPrivileges: true
            ),
            root: Spec.Root(path: rootfs, readonly: false),
            hostname: hostname,
            mounts: mounts,
            linux: Spec.Linux(namespaces: namespaces, maskedPaths: maskedPaths, readonlyPaths: readonlyPaths)
        )
    }
}
