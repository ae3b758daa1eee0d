import CShims
import Glibc
import NookCore

/// Copies a `ChildPlan` into C memory as `struct nook_launch` and calls
/// `nook_spawn`. It decides nothing: every value comes from the plan.
/// The memory lives until after clone3 returns; the child has its own copy.
final class ChildLauncher {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit { for p in allocations { free(p) } }

    private func cString(_ s: String) -> UnsafePointer<CChar> {
        let p = strdup(s)!
        allocations.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    private func optionalCString(_ s: String?) -> UnsafePointer<CChar>? {
        s.map(cString)
    }

    /// NULL-terminated array of C strings.
    private func cStringArray(_ list: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let p = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: list.count + 1)
        for (i, s) in list.enumerated() { p[i] = cString(s) }
        p[list.count] = nil
        allocations.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    private func rootPath(_ path: RootPath) -> nook_root_path {
        nook_root_path(path: cString(path.path), prefixes: cStringArray(path.prefixes), names: cStringArray(path.names),
                       n: path.prefixes.count)
    }

    private func array<T>(_ list: [T]) -> UnsafePointer<T>? {
        if list.isEmpty { return nil }
        let p = UnsafeMutablePointer<T>.allocate(capacity: list.count)
        p.initialize(from: list, count: list.count)
        allocations.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    struct Options {
        var syncFD: Int32
        var parentSyncFD: Int32 = -1
        var trace: Bool
        var cgroupFD: Int32 = -1
        var startFifoFD: Int32 = -1
        var createConsole = false
        var consoleSize: WindowSize?
        var stdio: (Int32, Int32, Int32) = (-1, -1, -1)
    }

    func spawn(_ plan: ChildPlan, options: Options) throws -> (pid: pid_t, pidfd: Int32) {
        var launch = nook_launch()
        launch.clone_flags = plan.cloneFlags
        launch.unshare_cgroupns = plan.unshareCgroupNamespace ? 1 : 0
        launch.sync_fd = options.syncFD
        launch.parent_sync_fd = options.parentSyncFD
        launch.trace = options.trace ? 1 : 0
        launch.setup_rootfs = plan.setupRootfs ? 1 : 0
        launch.pdeathsig = plan.pdeathsig ? 1 : 0
        launch.fork_after_join = plan.forksIntoJoinedPIDNamespace ? 1 : 0
        launch.rootfs = cString(plan.rootfs)
        if let overlay = plan.rootOverlay {
            launch.overlay_dir = cString(overlay.directory)
            launch.overlay_options = cString(overlay.options)
            launch.overlay_readonly = overlay.readOnly ? 1 : 0
        }
        let mounts = plan.mounts.map { op in
            nook_mount(kind: op.kind.rawValue, if_missing: Self.cValue(op.ifMissing), on_procfs: op.mustBeOnProcfs ? 1 : 0,
                       optional: op.optional ? 1 : 0, recursive: op.recursive ? 1 : 0, source: cString(op.source),
                       target: rootPath(RootPath(op.target)), fstype: cString(op.fstype), flags: op.flags,
                       data: op.data.isEmpty ? nil : cString(op.data), attr_set: op.attrs, source_fd: op.sourceFD)
        }
        launch.mounts = array(mounts)
        launch.n_mounts = mounts.count
        launch.readonly_rootfs = plan.readonlyRootfs ? 1 : 0
        launch.root_propagation = plan.rootPropagation
        launch.loopback_up = plan.loopbackUp ? 1 : 0
        launch.hostname = optionalCString(plan.hostname)
        launch.cwd = rootPath(RootPath(plan.cwd))
        launch.argv = cStringArray(plan.argv)
        launch.envp = cStringArray(plan.env)
        launch.exec_candidates = cStringArray(plan.execCandidates)
        launch.exec_fd = plan.execFD
        launch.exec_fd_keep = plan.keepExecFD ? 1 : 0
        launch.setup_uid = plan.setupIDs.map { Int64($0.uid) } ?? -1
        launch.setup_gid = plan.setupIDs.map { Int64($0.gid) } ?? -1
        launch.uid = plan.uid
        launch.gid = plan.gid
        launch.set_groups = plan.setgroupsAllowed ? 1 : 0
        launch.groups = array(plan.additionalGids)
        launch.n_groups = plan.additionalGids.count
        if let caps = plan.capabilities {
            launch.set_caps = 1
            launch.cap_bounding = caps.bounding
            launch.cap_effective = caps.effective
            launch.cap_permitted = caps.permitted
            launch.cap_inheritable = caps.inheritable
            launch.cap_ambient = caps.ambient
            launch.cap_last = Int32(KernelFacts.lastCapability())
        }
        launch.no_new_privs = plan.noNewPrivileges ? 1 : 0
        launch.seccomp_position = Self.cValue(plan.seccompPosition)
        if !plan.seccompFilter.isEmpty {
            let bytes = array(plan.seccompFilter)
            launch.seccomp_filter = UnsafeRawPointer(bytes)
            launch.seccomp_len = plan.seccompFilter.count / 8 // sizeof(struct sock_filter)
        }
        let limits = plan.rlimits.map { nook_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
        launch.rlimits = array(limits)
        launch.n_rlimits = limits.count
        launch.preserve_fds = plan.preserveFDs
        let console = ChildSteps.consoleMode(createConsole: options.createConsole, initProcess: plan.initProcess)
        launch.console_mode = Self.cValue(console)
        if let size = options.consoleSize {
            launch.console_rows = size.rows
            launch.console_cols = size.columns
        }
        launch.new_session = ChildSteps.newSession(requested: plan.newSession, console: console) ? 1 : 0
        launch.stdio_fds = options.stdio
        launch.init_mode = plan.initProcess ? 1 : 0
        launch.child_subreaper = plan.initAdoptsOrphans ? 1 : 0
        if let mm = ProcessMemoryLayout.current { launch.mm = mm.c }
        launch.title = cString(plan.processTitle)

        // `create`: the container waits for `start` as nook-wait (StartWaiter);
        // its image and filter are ours to close once the child has its copies.
        var waiterFDs: [Int32] = []
        defer { for fd in waiterFDs { close(fd) } }
        launch.waiter_fd = -1
        if options.startFifoFD >= 0 {
            precondition(!plan.initProcess && plan.execFD < 0, "the start waiter execs the command itself: no --init, no exec fd")
            let image = try StartWaiter.sealedImage()
            waiterFDs.append(image)
            let filter = StartWaiter.filterForWaiter(plan)
            let seccompFD = try filter.map(StartWaiter.sealedFilter) ?? -1
            if seccompFD >= 0 { waiterFDs.append(seccompFD) }
            launch.waiter_fd = image
            launch.waiter_argv = cStringArray(StartWaiter.arguments(
                syncFD: options.syncFD, fifoFD: options.startFifoFD, seccompFD: seccompFD,
                instructions: (filter?.count ?? 0) / 8, trace: options.trace,
                candidates: plan.execCandidates, argv: plan.argv))
            let passed = [options.syncFD, options.startFifoFD] + (seccompFD >= 0 ? [seccompFD] : [])
            launch.waiter_fds = array(passed)
            launch.n_waiter_fds = passed.count
            let close = ChildSteps.closeRanges(from: 3 + max(plan.preserveFDs, 0), keeping: passed + [image])
                .map { nook_fd_range(first: $0.first, last: $0.last) }
            launch.waiter_close = array(close)
            launch.n_waiter_close = close.count
        }

        // Namespaces to enter, opened here and closed once the child has its copies.
        var joinFDs: [Int32] = []
        defer { for fd in joinFDs { close(fd) } }
        var joinTypes: [Int32] = []
        for (ns, path) in plan.joinOrder {
            joinFDs.append(try NamespacePath.open(path, type: ns.ociName))
            joinTypes.append(Int32(bitPattern: UInt32(ns.cloneFlag)))
        }
        launch.join_fds = array(joinFDs)
        launch.join_types = array(joinTypes)
        launch.n_join = joinFDs.count

        var pidfd: Int32 = -1
        let pid = plan.joinExisting ? nook_spawn_joined(&launch, options.cgroupFD, &pidfd)
                                    : nook_spawn(&launch, options.cgroupFD, &pidfd)
        if pid < 0 {
            throw NookError.sys("clone3(\(plan.namespaces.map(\.cloneFlagName).joined(separator: "|")))", errno: -pid,
                                hint: -pid == EPERM || -pid == ENOSPC
                                    ? "unprivileged user namespaces may be disabled: check /proc/sys/user/max_user_namespaces and kernel.unprivileged_userns_clone"
                                    : nil)
        }
        return (pid, pidfd)
    }

    // The C spellings of the choices in ChildSteps and MountOp.
    private static func cValue(_ position: ChildSteps.SeccompPosition) -> Int32 {
        switch position {
        case .beforeIdentity: Int32(NOOK_SECCOMP_BEFORE_IDENTITY.rawValue)
        case .beforeExec: Int32(NOOK_SECCOMP_BEFORE_EXEC.rawValue)
        }
    }

    private static func cValue(_ mode: ChildSteps.ConsoleMode) -> Int32 {
        switch mode {
        case .none: Int32(NOOK_CONSOLE_NONE.rawValue)
        case .now: Int32(NOOK_CONSOLE_NOW.rawValue)
        case .inCommand: Int32(NOOK_CONSOLE_IN_COMMAND.rawValue)
        }
    }

    private static func cValue(_ missing: MountOp.IfMissing) -> Int32 {
        switch missing {
        case .makeDirectory: Int32(NOOK_MISSING_MKDIR.rawValue)
        case .createFile: Int32(NOOK_MISSING_CREATE_FILE.rawValue)
        case .skip: Int32(NOOK_MISSING_SKIP.rawValue)
        }
    }
}
