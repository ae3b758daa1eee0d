import Glibc
import NookCore
import NookKernel
import NookSpec

/// What a `kill -9` of any nook command can leave, and how the next command
/// that touches the container finishes or undoes it (issue 15). No daemon
/// cleans up after a crash, so every command does it first.
///
/// The rule that makes this decidable: whoever works on a container holds its
/// lock (a foreground `nook run` and a monitor for the container's whole life;
/// `create`, `start`, `delete` while they run), and a container's directory is
/// never without its creator's lock (`StateStore.reserve`). So a lock we can
/// take means the last command on it is gone, and the state file says how far
/// it got:
///
/// | left behind                              | what the next command does          |
/// |------------------------------------------|-------------------------------------|
/// | no state.json (creator or `delete` died)  | removes its cgroup and directory    |
/// | `creating` (a `run` or `create` died)     | kills what was started, removes all |
/// | foreground, its `nook run` died           | kills what is left, removes all     |
/// | detached, its monitor died                | kills what is left, marks stopped   |
/// | OCI `created`, but no longer waiting      | records running (a `start` died)    |
/// | OCI, its process gone                     | records stopped                     |
///
/// Whether an OCI container still waits for `start` is the kernel's answer,
/// not a guess: its waiter holds exec.fifo open until it has `start`'s byte.
extension Runtime {
    /// Repairs every container nobody is working on, and what killed commands
    /// left under hidden names. Returns the ids it removed.
    @discardableResult
    package func reconcile() -> [String] {
        store.sweepHidden()
        return store.ids().filter { repairOne(id: $0) }
    }

    /// Repairs one container if nobody is working on it (and what killed
    /// commands left under hidden names). Returns whether it was removed.
    @discardableResult
    package func repair(id: String) -> Bool {
        store.sweepHidden()
        return repairOne(id: id)
    }

    private func repairOne(id: String) -> Bool {
        // not a container id (a stray name): not ours to repair
        guard (try? StateStore.validate(id: id)) != nil, let lock = store.lockIfFree(id) else { return false }
        defer { lock.release() }
        return repairLocked(id: id)
    }

    /// A record a crash of the machine lost before it reached the disk (a
    /// foreground run's is written without fsync): empty, or only NUL bytes
    /// where the file grew but its data never came. Nook never writes either.
    func isLostRecord(_ path: String) -> Bool {
        guard let bytes = try? kernel.readFile(path, as: .own, noFollow: true) else { return false }  // unreadable: not known to be lost
        return bytes.allSatisfy { $0 == 0 }
    }

    /// With the container's lock held.
    func repairLocked(id: String) -> Bool {
        /// Its creator died before it recorded a process (one it had cloned
        /// dies with it), or a removal died half-way.
        func removeUnrecorded() -> Bool {
            // Best effort: what cannot be removed now is tried again by the next repair.
            try? cgroups.backend(of: id, recordedPath: store.recordedCgroup(id)).remove()
            store.remove(id)
            return true
        }
        guard kernel.exists(store.statePath(id)) else { return removeUnrecorded() }
        guard var state = try? store.read(id) else {  // unreadable: lost, or corrupt for the user to decide
            return isLostRecord(store.statePath(id)) ? removeUnrecorded() : false
        }
        let alive = ProcessIdentity(pid: state.pid, startTime: state.startTime).isAlive(in: kernel)
        if state.status == .creating || state.mode == .foreground {
            // A creation nobody will finish, or a foreground container whose
            // supervisor is gone (PR_SET_PDEATHSIG has killed its init; what a
            // container without a PID namespace of its own started may not be).
            discard(state)
            store.remove(id)
            return true
        }
        switch state.mode {
        case .detached:
            if state.status != .stopped {
                if alive || state.cgroupPath != nil { containerProcesses(state).kill() }
                state.status = .stopped
                state.finished = state.finished ?? Self.timestamp()
                try? store.write(state)  // best effort: status(of:) says stopped from the dead process either way
                removeCgroup(of: state)
            }
            // `create --rm` has not run yet: it goes when it stops, not before it starts.
            if state.removeOnExit == true && !state.neverStarted {
                store.remove(id)
                return true
            }
        case .oci:
            if !alive {
                if state.status != .stopped {
                    state.status = .stopped
                    state.finished = state.finished ?? Self.timestamp()
                    try? store.write(state)  // as above
                }
            } else if state.status == .created && !isWaitingForStart(state) {
                // `start` released the process and was killed before it recorded it.
                state.status = .running
                try? store.write(state)  // best effort: status(of:) reads the live process either way
                try? kernel.removeFile(store.directory(id) + "/" + Self.fifoName) // gone already: nothing to do
            }
        case .foreground:
            break
        }
        return false
    }

    /// Kills every process of the container and removes its cgroup.
    func discard(_ state: ContainerState) {
        if state.pid > 0 || state.cgroupPath != nil { containerProcesses(state).kill() }
        removeCgroup(of: state)
    }

    func removeCgroup(of state: ContainerState) {
        // Best effort, as above: repair must go on to the state directory.
        try? cgroups.backend(of: state.id, recordedPath: state.cgroupPath).remove()
    }

    /// An OCI container's process still waits for `start`: its waiter holds
    /// exec.fifo open, the FIFO's only reader, until it has taken `start`'s
    /// byte (StartWaiter). The kernel says whether a reader is there: opening
    /// for writing without blocking fails with ENXIO when there is none. So a
    /// `start` killed after it wrote the byte leaves a running container, seen
    /// as running, whatever the files say.
    func isWaitingForStart(_ state: ContainerState) -> Bool {
        // no FIFO or no reader: not waiting for start
        guard let fd = try? kernel.open(store.directory(state.id) + "/" + Self.fifoName, flags: O_WRONLY | O_NONBLOCK | O_NOFOLLOW, mode: 0) else {
            return false // ENXIO: no reader
        }
        kernel.close(fd)
        return true
    }
}
