import Glibc
import NookCore
import SystemPackage
import NookKernel
import NookSpec

/// Takes a child from clone to execve: writes its id maps, releases it,
/// relays its progress to --trace, and turns a failed step into one clear error.
/// All kernel access goes through `KernelInterface`.
package final class Supervisor {
    package let kernel: KernelInterface
    package let tracer: Tracer

    package init(kernel: KernelInterface, tracer: Tracer) {
        self.kernel = kernel
        self.tracer = tracer
    }

    package struct Launched: Sendable {
        package var process: SpawnedProcess
        /// With --init: the command's pid inside the container.
        package var commandPID: Int32?
        /// With -t: the master side of the container's pty.
        package var consoleMaster: Int32 = -1
    }

    /// - Parameters:
    ///   - beforeRelease: runs after the id maps are written, before the child
    ///     continues (join a cgroup, record state). A throw kills the child.
    ///   - stopAtReady: return as soon as setup is done (OCI create: the child
    ///     then waits for `start`); otherwise follow it through execve.
    ///   - atReady: runs once the child reports its setup done (its mounts,
    ///     pivot_root, identity), before its command runs (record it as running).
    package func launch(_ plan: LaunchPlan, options: SpawnOptions, stopAtReady: Bool = false,
                       beforeRelease: (SpawnedProcess) throws -> Void = { _ in },
                       atReady: (SpawnedProcess) throws -> Void = { _ in }) throws -> Launched {
        let (parentEnd, childEnd) = try kernel.socketPair()
        defer { kernel.close(parentEnd) }
        var opts = options
        opts.trace = tracer.enabled
        opts.parentSyncFD = parentEnd
        var process: SpawnedProcess
        do {
            process = try kernel.spawn(plan.childPlan, syncFD: childEnd, options: opts)
        } catch {
            kernel.close(childEnd)
            throw error
        }
        kernel.close(childEnd)
        tracer.emit("clone", Self.cloneCall(plan, cgroupFD: opts.cgroupFD, pid: process.pid), Self.cloneWhy(plan, cgroupFD: opts.cgroupFD))

        var console: Int32 = -1
        /// Every way out before the container runs: kill it, reap it, close what we hold.
        func abandon() {
            try? kernel.signal(process, SIGKILL)  // already gone is what we want
            _ = try? kernel.wait(process, forwarding: [])  // reaped or not, the error being reported is the caller's
            kernel.close(console)
            kernel.close(process.pidfd)
        }

        do {
            try writeIDMaps(plan.identity, pid: process.pid)
            if plan.forksIntoJoinedPIDNamespace {
                try kernel.sendGo(parentEnd)
                process = try followIntoPIDNamespace(from: process, parentEnd: parentEnd, plan: plan)
            }
            if let fuse = plan.fuseOverlay {
                try kernel.mountFuseOverlay(fuse, in: process, joinUser: plan.namespaces.contains(.user))
                tracer.emit("overlay", Self.fuseCall(fuse), Self.fuseWhy(fuse))
            }
            if let adj = plan.oomScoreAdj { try writeOOMScoreAdj(adj, pid: process.pid) }
            try beforeRelease(process)
            try kernel.sendGo(parentEnd)
        } catch {
            abandon()
            throw error
        }

        var failure: ChildMessage?
        var execed = false
        var commandPID: Int32?
        /// exec: the process the joining helper forked, our child too (CLONE_PARENT).
        var forked: pid_t?
        do {
            while let message = try kernel.receive(parentEnd) {
                switch message.kind {
                case .step, .skip: tracer.emit(message, plan: plan)
                case .fail: failure = message
                case .exec:
                    execed = true
                    if tracer.enabled {
                        tracer.emit(message, plan: plan)
                        try kernel.sendGo(parentEnd) // ack: the trace line is out before the command runs
                    }
                case .pid:
                    commandPID = message.value
                    if message.step == .fork {
                        forked = message.value
                        // exec's process waits for this ack under --trace (`exec_setup`).
                        if plan.joinExisting && tracer.enabled {
                            tracer.emit(message, plan: plan)
                            try kernel.sendGo(parentEnd)
                        }
                    }
                case .console: console = message.fd
                case .ready:
                    try atReady(process)
                    if tracer.enabled { try kernel.sendGo(parentEnd) }
                    if stopAtReady { return Launched(process: process, commandPID: nil, consoleMaster: console) }
                }
            }
        } catch {
            abandon()
            if let forked { discardForked(forked) }
            throw error
        }
        if let failure {
            abandon()
            // It failed before its exec: a zombie in the container's PID
            // namespace would keep a killed init from ever finishing its exit.
            if let forked { discardForked(forked) }
            throw Self.error(for: failure, plan: plan)
        }
        guard execed else {
            let status = try? kernel.wait(process, forwarding: [])  // the status only adds detail to the error below; nil says 'unknown'
            abandon()
            throw NookError("container setup ended without a report (\(status.map { "status \($0.code)" } ?? "unknown status"))",
                            hint: "the setup process was killed from outside")
        }
        return Launched(process: process, commandPID: commandPID, consoleMaster: console)
    }

    /// A PID namespace joined by path holds only the children made after the
    /// setns: the first child joins, forks the container's process (our child
    /// too, by CLONE_PARENT), reports its pid and exits. That process is the
    /// one we record, release and wait for; the first is reaped here (on a
    /// throw, the caller still has it to kill).
    func followIntoPIDNamespace(from first: SpawnedProcess, parentEnd: Int32, plan: LaunchPlan) throws -> SpawnedProcess {
        while let message = try kernel.receive(parentEnd) {
            switch message.kind {
            case .step, .skip: tracer.emit(message, plan: plan)
            case .fail: throw Self.error(for: message, plan: plan)
            case .pid where message.step == .fork:
                let process: SpawnedProcess
                do { process = try kernel.adopt(message.value) } catch {
                    discardForked(message.value)
                    throw error
                }
                collectJoiningHelper(first)
                tracer.emit("pidns", "clone3(CLONE_PARENT) = pid \(process.pid)",
                            "setns(CLONE_NEWPID) moves only children: the container's process is forked into the joined PID namespace; the first child exits")
                return process
            default:
                throw NookError("protocol error: unexpected \(message.kind) from the container's setup before it forked into the PID namespace")
            }
        }
        throw NookError("container setup ended before it forked into the joined PID namespace",
                        hint: "the setup process was killed from outside")
    }

    /// The joining helper, which exits once it has forked: reaped (without
    /// its pidfd if the wait fails: it is exiting anyway), its pidfd closed.
    func collectJoiningHelper(_ helper: SpawnedProcess) {
        if (try? kernel.wait(helper, forwarding: [])) == nil { kernel.reap(helper.pid) }  // a failed wait falls back to a plain reap
        kernel.close(helper.pidfd)
    }

    /// A process the joining helper forked (CLONE_PARENT: our child) that we
    /// will not follow: killed and reaped. Until it is reaped its pid is
    /// not reused, so the pid names it (there may be no pidfd: opening one
    /// may be what failed).
    func discardForked(_ pid: pid_t) {
        try? kernel.signal(SpawnedProcess(pid: pid, pidfd: -1), SIGKILL) // fails only if it is gone: the reap collects it
        kernel.reap(pid)
    }

    /// The fuse-overlayfs trace line: what its helper did and ran.
    static func fuseCall(_ fuse: FuseOverlayMount) -> String {
        "mount(\"fuse-overlayfs\", \"\(fuse.mountpoint)\", \"fuse.fuse-overlayfs\", \(fuse.readOnly ? "MS_RDONLY" : "0"), \"\(fuse.mountOptions)\") in the container's namespaces, then \(fuse.program) \(fuse.arguments.dropFirst().joined(separator: " "))"
    }

    static func fuseWhy(_ fuse: FuseOverlayMount) -> String {
        (fuse.readOnly ? "the image's layers, read-only (no writable layer: --read-only)"
            : "the image's layers, read-only, under this container's own writable layer (upperdir): its changes stay there")
            + "; fuse-overlayfs serves them from outside the container's PID and mount namespaces and exits when the container's mount namespace goes"
            + (fuse.volatile ? "; volatile: no fsync" : "")
    }

    /// The `clone:` trace line: the flags clone3 really gets.
    static func cloneCall(_ plan: LaunchPlan, cgroupFD: Int32, pid: Int32) -> String {
        let flags = plan.namespaces.filter { $0 != .cgroup }.map(\.cloneFlagName)
            + ["CLONE_PIDFD"] + (cgroupFD >= 0 ? ["CLONE_INTO_CGROUP"] : [])
        return "clone3(\(flags.joined(separator: "|"))\(cgroupFD >= 0 ? ", cgroup fd \(cgroupFD)" : "")) = pid \(pid)"
    }

    static func cloneWhy(_ plan: LaunchPlan, cgroupFD: Int32) -> String {
        let placed = cgroupFD >= 0 ? "; it starts in the container's cgroup (no window outside its limits)" : ""
        if plan.joinExisting {
            let joins = plan.joinOrder.map(\.0.rawValue)
            return "a helper that joins the container's namespaces: \(joins.isEmpty ? "none to join (shared with nook)" : joins.joined(separator: ", "))\(placed)"
        }
        let made = plan.namespaces.filter { $0 != .cgroup }.map(\.rawValue)
        return "new namespaces: \(made.isEmpty ? "none" : made.joined(separator: ", "))\(placed)"
    }

    /// Writes /proc/PID/{setgroups,uid_map,gid_map}, or has the setuid helpers do it.
    func writeIDMaps(_ identity: IDMapping, pid: pid_t) throws {
        switch identity.writer {
        case .none:
            tracer.emit("id maps", "(none)", identity.reason)
        case .direct:
            if !identity.setgroupsAllowed {
                try kernel.writeFile("/proc/\(pid)/setgroups", "deny")
                tracer.emit("id maps", "write /proc/\(pid)/setgroups \"deny\"",
                            "an unprivileged writer may map gids only after giving up setgroups")
            }
            try writeMap("/proc/\(pid)/uid_map", identity.uidMappings, "uid", identity)
            try writeMap("/proc/\(pid)/gid_map", identity.gidMappings, "gid", identity)
        case .helpers:
            let helpers = [("newuidmap", identity.uidMappings, "uid"), ("newgidmap", identity.gidMappings, "gid")]
            let argvs = helpers.map { helper, maps, _ in
                [helper, "\(pid)"] + maps.flatMap { ["\($0.containerID)", "\($0.hostID)", "\($0.size)"] }
            }
            // Both at once: each is a setuid program that takes about 2 ms to start.
            let results = try kernel.runHelpers(argvs)
            for ((helper, _, kind), (args, result)) in zip(helpers, zip(argvs, results)) {
                guard result.status == 0 else {
                    throw NookError("\(helper) failed for pid \(pid): \(result.errorOutput.trimmingCharacters(in: " \n"))",
                                    hint: "check /etc/sub\(kind) and that \(helper) is installed setuid (Debian package uidmap)")
                }
                tracer.emit("id maps", args.joined(separator: " "), "the setuid helper maps a sub-\(kind) range: \(identity.reason)")
            }
        }
    }

    private func writeMap(_ path: String, _ maps: [Spec.IDMap], _ kind: String, _ identity: IDMapping) throws {
        let text = IDMapping.text(maps)
        do { try kernel.writeFile(path, text) } catch let e as NookError {
            throw e.within("write \(kind) map", hint: "an unprivileged user can map only its own \(kind)")
        }
        tracer.emit("id maps", "write \(path) \"\(text.trimmingCharacters(in: "\n").replacingNewlines())\" (by nook)",
                    identity.reason)
    }

    /// From the parent, like crun: the child is ours, and the kernel lets an
    /// unprivileged owner raise the value but not lower it (CAP_SYS_RESOURCE).
    private func writeOOMScoreAdj(_ adj: Int, pid: Int32) throws {
        let path = "/proc/\(pid)/oom_score_adj"
        do { try kernel.writeFile(path, "\(adj)") } catch let e as NookError {
            // only detail for the error being built
            let own = (try? HostPath.readText("/proc/self/oom_score_adj"))?.trimmingCharacters(in: "\n") ?? "?"
            throw e.within("process.oomScoreAdj \(adj)",
                           hint: "without CAP_SYS_RESOURCE it can only be raised: nook's own is \(own), so use \(own) to 1000")
        }
        tracer.emit("oom", "write \(path) \"\(adj)\"", "process.oomScoreAdj: how readily the OOM killer picks this container")
    }

    /// The user's one line for a failed child step, with podman's exit codes.
    package static func error(for message: ChildMessage, plan: LaunchPlan) -> NookError {
        let d = StepDescription(message, plan: plan)
        let err = Errno(rawValue: message.errno)
        var (code, kind): (Int32, NookError.Kind) = (125, .systemCall(step: d.failure, path: d.path, errno: err))
        if message.step == .exec {
            let command = plan.argv.first ?? ""
            (code, kind) = message.errno == ENOENT && message.index < 0 ? (127, .commandNotFound(command)) : (126, .notExecutable(command, errno: err))
        }
        return NookError("\(d.failure): \(errnoDescription(message.errno))", hint: d.hint, exitCode: code, kind: kind)
    }
}

extension String {
    func replacingNewlines() -> String { split(separator: "\n").joined(separator: "; ") }
}
