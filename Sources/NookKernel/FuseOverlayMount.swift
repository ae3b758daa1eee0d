import CShims
import Glibc
import NookCore

/// fuse-overlayfs as a container's root, as plain data decided in NookRuntime
/// (`RootOverlayPlan`): the parent mounts the FUSE connection at `mountpoint`
/// in the container's namespaces before the child goes on, and the program
/// serves it from outside them (`CShims/fuse_overlay.c` says why).
package struct FuseOverlayMount: Sendable, Equatable {
    /// The fd the server finds the connection at, and what its argv and the mount options name.
    package static let connectionFD = Int32(NOOK_FUSE_FD)

    package var program: String
    /// argv, argv[0] included; the last one is `/dev/fd/N`.
    package var arguments: [String]
    package var mountpoint: String
    /// fuse's mount(2) data.
    package var mountOptions: String
    package var readOnly: Bool
    /// `volatile` is among the program's options (for --trace to say why).
    package var volatile: Bool

    package init(program: String, arguments: [String], mountpoint: String, mountOptions: String, readOnly: Bool, volatile: Bool) {
        self.program = program
        self.arguments = arguments
        self.mountpoint = mountpoint
        self.mountOptions = mountOptions
        self.readOnly = readOnly
        self.volatile = volatile
    }

    /// What failed in `nook_spawn_fuse_overlay`, as the error says it.
    static func call(failedAt step: Int32, _ mount: FuseOverlayMount) -> String {
        switch UInt32(step) {
        case NOOK_FUSE_STEP_SETNS_USER.rawValue: "setns(CLONE_NEWUSER) into the container's user namespace"
        case NOOK_FUSE_STEP_IDENTITY.rawValue: "setresuid(0) in the container's user namespace"
        case NOOK_FUSE_STEP_OPEN_DEV.rawValue: "open /dev/fuse"
        case NOOK_FUSE_STEP_SETNS_MNT.rawValue: "setns(CLONE_NEWNS) into the container's mount namespace"
        case NOOK_FUSE_STEP_PRIVATE.rawValue: "mount(NULL, \"/\", MS_REC|MS_PRIVATE) in the container's mount namespace"
        case NOOK_FUSE_STEP_MOUNT.rawValue: "mount fuse.fuse-overlayfs on '\(mount.mountpoint)'"
        default: "run \(mount.program)"
        }
    }

    /// Mounts it in `process`'s namespaces and starts the server; returns once
    /// fuse-overlayfs has daemonized. Throws what failed, with its stderr.
    func start(in process: SpawnedProcess, joinUser: Bool) throws {
        guard process.pidfd >= 0 else { throw NookError("fuse-overlayfs needs a pidfd of the container's process, and there is none") }
        var errPipe: [Int32] = [-1, -1]
        guard Syscall.pipe(&errPipe) == 0 else { throw NookError.sys("pipe", errno: errno) }
        defer { Glibc.close(errPipe[0]) }
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devnull >= 0 else { Glibc.close(errPipe[1]); throw NookError.sys("open /dev/null", errno: errno) }
        var argv = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { for p in argv + envp { free(p) } }
        var step: Int32 = 0
        let pid: pid_t = mountpoint.withCString { point in
            mountOptions.withCString { options in
                program.withCString { path in
                    argv.withUnsafeMutableBufferPointer { args in
                        envp.withUnsafeMutableBufferPointer { env in
                            var f = nook_fuse_overlay(pidfd: process.pidfd, join_user: joinUser ? 1 : 0, mountpoint: point,
                                                      mount_options: options, mount_flags: readOnly ? UInt(MS_RDONLY) : 0,
                                                      program: path, argv: args.baseAddress, envp: env.baseAddress,
                                                      stderr_fd: errPipe[1], devnull_fd: devnull)
                            return nook_spawn_fuse_overlay(&f, &step)
                        }
                    }
                }
            }
        }
        let spawnErrno = errno
        Glibc.close(errPipe[1])
        Glibc.close(devnull)
        guard pid > 0 else {
            throw NookError.sys(Self.call(failedAt: step, self), errno: spawnErrno,
                                hint: step == Int32(NOOK_FUSE_STEP_OPEN_DEV.rawValue) || step == Int32(NOOK_FUSE_STEP_MOUNT.rawValue)
                                    ? "fuse-overlayfs needs /dev/fuse readable and writable by you; NOOK_STORAGE_DRIVER=copy copies the image's layers instead"
                                    : "NOOK_STORAGE_DRIVER=copy copies the image's layers instead")
        }
        // Its stderr ends when it daemonizes (the daemon's goes to /dev/null) or exits.
        let output = HelperProcess.readAll(errPipe[0])
        let code = try LiveKernel.collect(pid).code
        guard code == 0 else {
            let said = output.split(separator: "\n").map { PrintableText.escaped(String($0)) }.filter { !$0.isEmpty }.suffix(4).joined(separator: "; ")
            throw NookError("\(program) failed (exit \(code)) serving the image's layers at '\(mountpoint)'\(said.isEmpty ? "" : ": " + said)",
                            hint: "check the program (NOOK_FUSE_OVERLAYFS names another one), or run with NOOK_STORAGE_DRIVER=copy or overlay")
        }
    }
}
