import XCTest
import Glibc
import NookCore
import NookKernel
import NookKernelTesting
@testable import NookRuntime
@testable import NookSpec

/// The parent side of `run`, `create`, `exec` and `delete`, on the recording
/// fakes of the kernel, cgroup and network seams: the order of the steps for a
/// typical container, and, for every step that can fail, the error the user
/// reads and the cleanup that follows (state directory, cgroup, child,
/// network helper, lock, fds). The failure tables iterate over the recorded
/// steps, so a step added to a sequence is covered without a new test.
final class RuntimeSequenceTests: XCTestCase {
    var tmp: TempDir!
    /// A state root that exists only in the fake (nothing is written there for real).
    var root: String { tmp.path + "/state-in-the-fake" }
    var directory: String { root + "/c1" }
    let failure = errnoDescription(ENOLINK)

    override func setUpWithError() throws {
        tmp = try TempDir("nook-seq")
        _ = try tmp.dir("rootfs")
    }
    override func tearDown() {
        tmp.remove()
    }

    struct World {
        let kernel: RecordingKernel
        let cgroups: RecordingCgroups
        let network: RecordingNetwork
        let runtime: Runtime
    }

    /// A runtime on fresh fakes, its calls so far (making the state root) forgotten.
    func world(failAt: Int? = nil) throws -> World {
        let kernel = RecordingKernel()
        let cgroups = RecordingCgroups(kernel)
        let network = RecordingNetwork(kernel)
        let runtime = try Runtime(stateRoot: root, environment: [:], kernel: kernel, cgroups: cgroups, network: network)
        kernel.seed(directory: "/run/pids") // where --pid-file writes
        kernel.calls = []
        kernel.failAt = failAt
        return World(kernel: kernel, cgroups: cgroups, network: network, runtime: runtime)
    }

    /// The mapping is given, so no host file decides it: 0 -> the caller, written by nook.
    func spec(network: String? = nil) -> Spec {
        var spec = defaultSpec(rootfs: tmp.path + "/rootfs", args: ["true"])
        spec.linux?.uidMappings = [.init(containerID: 0, hostID: getuid(), size: 1)]
        spec.linux?.gidMappings = [.init(containerID: 0, hostID: getgid(), size: 1)]
        if let network { spec.annotations = [NetworkSettings.modeAnnotation: network] }
        spec.hooks = Spec.Hooks(prestart: [hook("prestart")], createRuntime: [hook("createRuntime")], createContainer: nil,
                                startContainer: nil, poststart: [hook("poststart")], poststop: [hook("poststop")])
        return spec
    }

    /// A hook on the host (the fake starts it; it exits 0 unless a test says otherwise).
    func hook(_ point: String) -> Spec.Hook { Spec.Hook(path: "/hooks/" + point, args: nil, env: nil, timeout: 5) }

    /// The steps that make or change something, in order: what a reader of
    /// the sequence checks (probes and closes left out).
    func steps(_ kernel: RecordingKernel) -> [String] {
        kernel.calls.filter { if case .note = $0 { return true }; return $0.canFail }.map(\.description)
    }

    // MARK: run

    func run(_ w: World) throws -> ExitStatus {
        w.kernel.messages = [ChildMessage(kind: .ready, step: .none), ChildMessage(kind: .exec, step: .exec)]
        var settings = Runtime.RunSettings()
        settings.forwardSignals = [SIGTERM]
        settings.network = NetworkSettings(mode: try NetworkMode.parse("pasta"))
        return try w.runtime.run(spec(network: "pasta"), id: "c1", settings: settings)
    }

    func testRunSteps() throws {
        let w = try world()
        XCTAssertEqual(try run(w), .exited(0))
        let staging = root + "/.new-\(getpid())-c1", gone = root + "/.gone-\(getpid())-c1"
        XCTAssertEqual(steps(w.kernel), [
            "network check pasta",
            "mkdir(\(staging))", "lock(\(staging)/lock)", "rename(\(staging), \(directory))",
            "createFile(\(directory)/config.json)",
            "network files \(directory)/hosts",
            "cgroup create /fake/cgroup/nook-c1", "createFile(\(directory)/cgroup.path)", "cgroup open /fake/cgroup/nook-c1",
            "socketPair", "spawn(syncFD: 11)",
            #"writeFile(/proc/4242/setgroups, "deny")"#,
            "writeFile(/proc/4242/uid_map, \"0 \(getuid()) 1\\n\")", "writeFile(/proc/4242/gid_map, \"0 \(getgid()) 1\\n\")",
            "network start pasta for 4242",
            "createFile(\(directory)/state.json.tmp.\(getpid()))", "rename(\(directory)/state.json.tmp.\(getpid()), \(directory)/state.json)", // creating
            "sendGo(10)", "receive(10)",
            "createFile(\(directory)/state.json.tmp.\(getpid()))", "rename(\(directory)/state.json.tmp.\(getpid()), \(directory)/state.json)", // running
            "receive(10)", "receive(10)",
            "wait(4242, [15])",
            "note(network stop 5000)",
            "cgroup remove /fake/cgroup/nook-c1",
            "rename(\(directory), \(gone))",
        ])
        assertNothingLeft(w)
    }

    func testRunFailureAtEachStep() throws {
        let baseline = try world()
        _ = try run(baseline)
        // Best effort by design: the container has ended when these fail.
        let tolerated = ["cgroup remove": "rmdir failed: the cgroup stays (the next container of that name removes it)",
                         "rename(\(directory),": "the removal falls back to removing in place"]
        for (i, call) in baseline.kernel.calls.enumerated() where call.canFail {
            let w = try world(failAt: i)
            let label = "step \(i) \(call)"
            do {
                _ = try run(w)
                let reason = tolerated.first { call.description.contains($0.key) }
                XCTAssertNotNil(reason, "\(label): run succeeded though the step failed")
            } catch let e as NookError {
                XCTAssertTrue(e.message.contains(failure), "\(label): \(e.message)")
                XCTAssertTrue(e.message.contains(subject(call)), "\(label): the error does not name the step: \(e.message)")
                XCTAssertEqual(e.exitCode, 125, label)
            }
            if call.description.hasPrefix("cgroup remove") {
                XCTAssertEqual(w.cgroups.existing, ["/fake/cgroup/nook-c1"], label)
                continue
            }
            assertNothingLeft(w, label)
        }
    }

    // MARK: create

    /// With a terminal (its master sent to --console-socket) and a --pid-file.
    func create(_ w: World) throws {
        w.kernel.messages = [ChildMessage(kind: .console, step: .none, fd: 60), ChildMessage(kind: .ready, step: .none)]
        var spec = spec()
        spec.process?.terminal = true
        var settings = Runtime.CreateSettings(bundle: tmp.path)
        settings.consoleSocket = "/run/console.sock"
        settings.pidFile = "/run/pids/c1.pid"
        try w.runtime.create(spec, id: "c1", settings: settings)
    }

    func testCreateSteps() throws {
        let w = try world()
        try create(w)
        let staging = root + "/.new-\(getpid())-c1"
        XCTAssertEqual(steps(w.kernel), [
            "mkdir(\(staging))", "lock(\(staging)/lock)", "rename(\(staging), \(directory))",
            "cgroup create /fake/cgroup/nook-c1", "createFile(\(directory)/cgroup.path)",
            "createFile(\(directory)/config.json)",
            "mkfifo(\(directory)/exec.fifo)", "open(\(directory)/exec.fifo)",
            "cgroup open /fake/cgroup/nook-c1",
            "socketPair", "spawn(syncFD: 11)",
            #"writeFile(/proc/4242/setgroups, "deny")"#,
            "writeFile(/proc/4242/uid_map, \"0 \(getuid()) 1\\n\")", "writeFile(/proc/4242/gid_map, \"0 \(getgid()) 1\\n\")",
            "createFile(\(directory)/state.json.tmp.\(getpid()))", "rename(\(directory)/state.json.tmp.\(getpid()), \(directory)/state.json)", // creating
            // The hooks on the host, before the child's setup goes on: each started, watched until it ends, collected.
            "startHelper(/hooks/createRuntime)", "poll(pidfd:5101)", "wait(5101, [])",
            "startHelper(/hooks/prestart)", "poll(pidfd:5102)", "wait(5102, [])",
            "sendGo(10)", "receive(10)", "receive(10)", // the pty's master, then ready
            "sendFD(/run/console.sock)", // the pty master, then closed
            "createFile(\(directory)/state.json.tmp.\(getpid()))", "rename(\(directory)/state.json.tmp.\(getpid()), \(directory)/state.json)", // created
            "open(\(directory)/exec.fifo)", // status for the hooks' state (none): a reader waits for start
            "createNewFile(/run/pids/c1.pid.nook-tmp)", "rename(/run/pids/c1.pid.nook-tmp, /run/pids/c1.pid)", // --pid-file, whole
        ])
        XCTAssertEqual(w.kernel.files["/run/pids/c1.pid"], Array("4242".utf8))
        // The hooks read the state on stdin: the container's process, still creating.
        let input = try JSONDecoder().decode(OCIState.self, from: Data(w.kernel.helperInputs["/hooks/prestart"] ?? []))
        XCTAssertEqual([input.id, input.status, "\(input.pid)"], ["c1", "creating", "4242"])
        // The container waits for `start`: its process, directory and cgroup stay; nothing else.
        XCTAssertEqual(w.kernel.liveChildren, [4242])
        XCTAssertEqual(w.cgroups.existing, ["/fake/cgroup/nook-c1"])
        XCTAssertTrue(w.kernel.directories.contains(directory))
        XCTAssertEqual(w.kernel.openFDs, [])
        XCTAssertEqual(w.kernel.heldLocks, [:])
        XCTAssertEqual(try w.runtime.state(id: "c1").status, "created")
    }

    func testCreateFailureAtEachStep() throws {
        let baseline = try world()
        try create(baseline)
        // Only the first open of exec.fifo makes something; later ones probe
        // whether the container waits for start (a failure reads as "no").
        let fifo = RecordingKernel.Call.open(directory + "/exec.fifo")
        let fifoProbes = baseline.kernel.calls.indices.filter { baseline.kernel.calls[$0] == fifo }.dropFirst()
        for (i, call) in baseline.kernel.calls.enumerated() where call.canFail && !fifoProbes.contains(i) {
            let w = try world(failAt: i)
            let label = "step \(i) \(call)"
            assertNookError(try create(w), label) { e in
                XCTAssertTrue(e.message.contains(failure), "\(label): \(e.message)")
                XCTAssertTrue(e.message.contains(subject(call)), "\(label): the error does not name the step: \(e.message)")
            }
            assertNothingLeft(w, label)
            XCTAssertEqual(w.kernel.files.keys.filter { $0.hasPrefix("/run/pids/") }, [], "\(label): a pid file is left")
        }
    }

    /// A prestart hook that fails, or outlives its timeout (then it is
    /// killed), fails create, which undoes what it made; a failing poststart
    /// or poststop hook is reported and ignored.
    func testHookOutcomes() throws {
        for (hanging, exits) in [(true, [String: ExitStatus]()), (false, ["/hooks/prestart": .exited(3)])] {
            let w = try world()
            w.kernel.hangingHelpers = hanging ? ["/hooks/prestart"] : []
            w.kernel.helperExits = exits
            assertNookError(try create(w)) { e in
                XCTAssertTrue(e.message.contains(hanging ? "prestart hook 0 (/hooks/prestart): timed out after 5 s" : "exited with status 3"), e.message)
            }
            XCTAssertEqual(w.kernel.killed, hanging ? [5102, 4242] : [4242]) // the hook that overran, and the container's process
            XCTAssertEqual(w.kernel.clock, hanging ? 5 : 0)
            assertNothingLeft(w)
        }
        let w = try world()
        w.kernel.helperExits = ["/hooks/poststart": .exited(1), "/hooks/poststop": .signaled(SIGKILL)]
        try create(w)
        try w.runtime.start(id: "c1")
        XCTAssertEqual(try w.runtime.state(id: "c1").status, "running")
        w.kernel.liveChildren.remove(4242)
        try w.runtime.delete(id: "c1", force: false)
        assertNothingLeft(w)
    }

    // MARK: exec

    /// A running container: its files in the fake, its process this test's
    /// own (so /proc/PID/ns is there to compare and nothing is joined).
    func seedRunning(_ w: World) throws {
        var state = ContainerState(id: "c1", status: .running, pid: getpid(), startTime: w.kernel.startTime,
                                   bundle: tmp.path, rootfs: tmp.path + "/rootfs", mode: .oci, created: "2000-01-01T00:00:00Z")
        state.cgroupPath = "/fake/cgroup/nook-c1"
        let encoder = JSONEncoder()
        w.kernel.seed(file: directory + "/state.json", Array(try encoder.encode(state)))
        w.kernel.seed(file: directory + "/config.json", Array(try encoder.encode(spec())))
        w.kernel.seed(file: directory + "/lock", [])
        w.kernel.liveChildren.insert(getpid())
    }

    /// With a terminal (its master sent to --console-socket) and a --pid-file.
    func exec(_ w: World) throws -> ExitStatus? {
        w.kernel.messages = [ChildMessage(kind: .console, step: .none, fd: 61), ChildMessage(kind: .pid, step: .fork, value: 4343),
                             ChildMessage(kind: .exec, step: .exec)]
        var settings = Runtime.ExecSettings()
        settings.forwardSignals = [SIGTERM]
        settings.consoleSocket = "/run/console.sock"
        settings.pidFile = "/run/pids/exec.pid"
        let process = try w.runtime.execProcess(id: "c1", args: ["true"], terminal: true)
        return try w.runtime.exec(id: "c1", process: process, settings: settings)
    }

    func testExecSteps() throws {
        let w = try world()
        try seedRunning(w)
        XCTAssertEqual(try exec(w), .exited(0))
        XCTAssertEqual(steps(w.kernel).filter { !$0.hasPrefix("readFile") && !$0.hasPrefix("lock") && !$0.hasPrefix("open(") }, [
            "cgroup open /fake/cgroup/nook-c1",
            "socketPair", "spawn(syncFD: 11)",
            "sendGo(10)", "receive(10)", "receive(10)", "receive(10)", "receive(10)",
            "wait(4242, [])", // the joining helper, once it forked the process
            "adopt(4343)",
            "createNewFile(/run/pids/exec.pid.nook-tmp)", "rename(/run/pids/exec.pid.nook-tmp, /run/pids/exec.pid)", // --pid-file, whole
            "sendFD(/run/console.sock)", // the pty master, then closed
            "wait(4343, [15])",
        ])
        XCTAssertEqual(w.kernel.files["/run/pids/exec.pid"], Array("4343".utf8))
        XCTAssertEqual(w.kernel.liveChildren, [getpid()])
        XCTAssertEqual(w.kernel.openFDs, [])
        XCTAssertEqual(w.kernel.heldLocks, [:])
    }

    func testExecFailureAtEachStep() throws {
        let baseline = try world()
        try seedRunning(baseline)
        _ = try exec(baseline)
        // Probes: a failure reads as "not there" and exec goes on.
        let tolerated = ["open(\(directory)/exec.fifo)": "no FIFO reader: not waiting for start",
                         "lock(\(directory)/lock)": "recovery skips a container it cannot lock",
                         "wait(4242, [])": "the helper is reaped instead"]
        for (i, call) in baseline.kernel.calls.enumerated() where call.canFail {
            let w = try world(failAt: i)
            try seedRunning(w)
            let label = "step \(i) \(call)"
            // Recovery reads the state first and leaves one it cannot read to the user.
            let stateRead = call.description.hasSuffix("state.json)")
            do {
                _ = try exec(w)
                XCTAssertTrue(tolerated[call.description] != nil || stateRead, "\(label): exec succeeded though the step failed")
            } catch let e as NookError {
                XCTAssertNil(tolerated[call.description], "\(label): \(e.message)")
                // A state file that cannot be read has its own message.
                if !stateRead {
                    XCTAssertTrue(e.message.contains(failure), "\(label): \(e.message)")
                    XCTAssertTrue(e.message.contains(subject(call)), "\(label): the error does not name the step: \(e.message)")
                }
            }
            XCTAssertEqual(w.kernel.liveChildren, [getpid()], "\(label): a child was left")
            XCTAssertEqual(w.kernel.openFDs, [], label)
            XCTAssertEqual(w.kernel.heldLocks, [:], label)
        }
    }

    // MARK: delete

    /// A created container whose process has ended.
    func seedStopped(_ w: World) throws {
        try create(w)
        w.kernel.liveChildren.remove(4242)
        w.kernel.calls = []
    }

    func testDeleteSteps() throws {
        let w = try world()
        try seedStopped(w)
        try w.runtime.delete(id: "c1", force: false)
        let gone = root + "/.gone-\(getpid())-c1"
        XCTAssertEqual(steps(w.kernel), [
            "lock(\(directory)/lock)", "readFile(\(directory)/state.json)", // recovery: already stopped
            "createFile(\(directory)/state.json.tmp.\(getpid()))", "rename(\(directory)/state.json.tmp.\(getpid()), \(directory)/state.json)",
            "readFile(\(directory)/state.json)",
            "lock(\(directory)/lock)",
            "readFile(\(directory)/config.json)",
            "cgroup remove /fake/cgroup/nook-c1",
            "rename(\(directory), \(gone))",
            "startHelper(/hooks/poststop)", "poll(pidfd:5103)", "wait(5103, [])", // once the container is gone
        ])
        assertNothingLeft(w)
    }

    func testDeleteFailureAtEachStep() throws {
        try deleteFailureAtEachStep(force: false, seed: seedStopped) { w, label in assertNothingLeft(w, label) }
    }

    /// `delete`, failing at each of its steps: the container is gone whole
    /// (`assertGone`), or the error names the step and the container is kept
    /// whole, with no lock or fd left, for a second delete that finishes the job.
    func deleteFailureAtEachStep(force: Bool, seed: (World) throws -> Void, assertGone: (World, String) -> Void) throws {
        let baseline = try world()
        try seed(baseline)
        try baseline.runtime.delete(id: "c1", force: force)
        for (i, call) in baseline.kernel.calls.enumerated() where call.canFail {
            let w = try world()
            try seed(w)
            w.kernel.failAt = i
            let label = "step \(i) \(call)"
            do {
                try w.runtime.delete(id: "c1", force: force)
            } catch let e as NookError {
                XCTAssertTrue(e.message.contains(failure) || e.message.contains("c1"), "\(label): \(e.message)")
                XCTAssertNotNil(w.kernel.files[directory + "/state.json"], "\(label): failed, but the state is gone")
                XCTAssertEqual(w.kernel.openFDs, [], label)
                XCTAssertEqual(w.kernel.heldLocks, [:], label)
                w.kernel.failAt = nil
                try w.runtime.delete(id: "c1", force: force)
            }
            assertGone(w, label)
        }
    }

    // MARK: start

    /// A created container: its waiter (4242) holds exec.fifo open for reading.
    func seedCreated(_ w: World) throws {
        try create(w)
        w.kernel.calls = []
    }

    func testStartSteps() throws {
        let w = try world()
        try seedCreated(w)
        try w.runtime.start(id: "c1")
        let fifo = directory + "/exec.fifo"
        XCTAssertEqual(steps(w.kernel), [
            "lock(\(directory)/lock)", "readFile(\(directory)/state.json)", "open(\(fifo))", // recovery: still waits
            "readFile(\(directory)/state.json)", // not run in the foreground
            "lock(\(directory)/lock)", "readFile(\(directory)/state.json)", "readFile(\(directory)/config.json)",
            "open(\(fifo))", // status: created
            "open(\(fifo))", // status for the startContainer hooks' state (none)
            "open(\(fifo))", "write(\(fifo))", // the byte that releases the waiter
            "pidfd_open(4242)", "poll(\(fifo))", // it took the byte and closed the FIFO
            "unlink(\(fifo))",
            "createFile(\(directory)/state.json.tmp.\(getpid()))", "rename(\(directory)/state.json.tmp.\(getpid()), \(directory)/state.json)", // running
            "startHelper(/hooks/poststart)", "poll(pidfd:5103)", "wait(5103, [])",
        ])
        XCTAssertEqual(try w.runtime.state(id: "c1").status, "running")
        XCTAssertEqual(w.kernel.liveChildren, [4242])
        XCTAssertEqual(w.kernel.openFDs, [])
        XCTAssertEqual(w.kernel.heldLocks, [:])
    }

    /// Whichever step fails, the container is never lost: it still waits
    /// (created, and a second start starts it), or it was released and reads
    /// as running; no lock or fd is left.
    func testStartFailureAtEachStep() throws {
        let baseline = try world()
        try seedCreated(baseline)
        try baseline.runtime.start(id: "c1")
        // From the lock on, each step is start's own and its failure fails start;
        // before it, recovery and the foreground check only look (a failed
        // look reads as "nothing to repair"). Probes of exec.fifo read a
        // failure as "not waiting"; the waiter's pidfd only serves to wake a
        // stopped waiter; the FIFO's removal is best effort; a failed
        // poststart hook is reported and ignored (the runtime spec).
        let calls = baseline.kernel.calls
        let locked = calls.indices.filter { if case .lock = calls[$0] { true } else { false } }[1]
        let release = calls.lastIndex(of: .open(directory + "/exec.fifo"))!
        func mustFail(_ i: Int) -> Bool {
            switch calls[i] {
            case .open: i == release
            case .openPidfd, .removeFile: false
            default: i >= locked && !hookSteps(calls).contains(i)
            }
        }
        for (i, call) in calls.enumerated() where call.canFail {
            let w = try world()
            try seedCreated(w)
            w.kernel.failAt = i
            let label = "step \(i) \(call)"
            do {
                try w.runtime.start(id: "c1")
                XCTAssertFalse(mustFail(i), "\(label): start succeeded though the step failed")
            } catch let e as NookError {
                if mustFail(i) {
                    XCTAssertTrue(e.message.contains(failure), "\(label): \(e.message)")
                    XCTAssertTrue(e.message.contains(subject(call)), "\(label): the error does not name the step: \(e.message)")
                }
                XCTAssertEqual(e.exitCode, 125, label)
            }
            XCTAssertEqual(w.kernel.openFDs, [], "\(label): an fd is open")
            XCTAssertEqual(w.kernel.heldLocks, [:], "\(label): a lock is held")
            XCTAssertEqual(w.kernel.liveChildren, [4242], "\(label): the container's process is gone")
            w.kernel.failAt = nil
            let status = try w.runtime.state(id: "c1").status
            if status == "created" { try w.runtime.start(id: "c1") } else { XCTAssertEqual(status, "running", label) }
            XCTAssertEqual(try w.runtime.state(id: "c1").status, "running", label)
        }
    }

    // MARK: delete --force

    /// A running container without a cgroup, in PID and user namespaces of
    /// its own: its init 4242 (PID 1 there), the init's child 4300, and 4500,
    /// which a process of the container started and handed to the host's
    /// reaper (its parent is 1 now, its PID namespace still the container's).
    /// 4400 is a stranger of the same user: never to be signalled.
    func seedRunningProcesses(_ w: World) throws {
        var state = ContainerState(id: "c1", status: .running, pid: 4242, startTime: w.kernel.startTime,
                                   bundle: tmp.path, rootfs: tmp.path + "/rootfs", mode: .oci, created: "2000-01-01T00:00:00Z")
        state.ownNamespaces = ["pid", "user", "mount"]
        let encoder = JSONEncoder()
        w.kernel.seed(file: directory + "/state.json", Array(try encoder.encode(state)))
        w.kernel.seed(file: directory + "/config.json", Array(try encoder.encode(spec())))
        w.kernel.seed(file: directory + "/lock", [])
        w.kernel.liveChildren.formUnion([4242, 4300, 4400, 4500])
        w.kernel.parents = [4242: 1, 4300: 4242, 4400: 1, 4500: 1]
        let container: [String: UInt64] = ["pid": 900, "user": 901]
        w.kernel.namespaces = [4242: container, 4300: container, 4500: container, 4400: ["pid": 1, "user": 2]]
        w.kernel.innermostPIDs = [4242: 1, 4300: 2, 4500: 7]
        w.kernel.calls = []
    }

    var containerPIDs: Set<pid_t> { [4242, 4300, 4500] }

    func testDeleteForceSteps() throws {
        let w = try world()
        try seedRunningProcesses(w)
        try w.runtime.delete(id: "c1", force: true)
        let gone = root + "/.gone-\(getpid())-c1"
        XCTAssertEqual(steps(w.kernel), [
            "lock(\(directory)/lock)", "readFile(\(directory)/state.json)", // recovery: running, nothing to do
            "readFile(\(directory)/state.json)", "open(\(directory)/exec.fifo)", // running (not waiting for start): --force kills it
            "pidfd_open(4242)", // the init, held before its start time is checked; PID 1 of its namespace
            "signal(4242, 9)", // its death ends its PID namespace
            "pidfd_open(4300)", "pidfd_open(4500)", // found by their PID namespace, held before the proof
            "signal(4300, 19)", "signal(4500, 19)", // stopped first: no fork, no orphan escapes
            "signal(4300, 9)", "signal(4500, 9)", // the init is gone already
            "lock(\(directory)/lock)",
            "readFile(\(directory)/config.json)",
            "rename(\(directory), \(gone))",
            "startHelper(/hooks/poststop)", "poll(pidfd:5101)", "wait(5101, [])",
        ])
        XCTAssertEqual(w.kernel.killed, containerPIDs)
        assertDeleted(w)
    }

    /// Whichever step fails, a stranger is never signalled, and the container
    /// is either gone whole (its processes killed) or kept for a second
    /// `delete --force`, which finishes the job.
    func testDeleteForceFailureAtEachStep() throws {
        try deleteFailureAtEachStep(force: true, seed: seedRunningProcesses) { w, label in
            XCTAssertEqual(w.kernel.killed.subtracting(w.kernel.helperPIDs), containerPIDs, label)
            assertDeleted(w, label)
        }
    }

    func assertDeleted(_ w: World, _ label: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(w.kernel.directories.filter { $0.hasPrefix(root + "/") }, [], "\(label): a directory is left", file: file, line: line)
        XCTAssertFalse(w.kernel.stopped.contains(4400), "\(label): a stranger was stopped", file: file, line: line)
        XCTAssertEqual(w.kernel.heldLocks, [:], "\(label): a lock is held", file: file, line: line)
        XCTAssertEqual(w.kernel.openFDs, [], "\(label): an fd is open", file: file, line: line)
    }

    /// The indices of the steps that start, watch and collect a hook.
    func hookSteps(_ calls: [RecordingKernel.Call]) -> [Int] {
        var pids: Set<pid_t> = []
        return calls.indices.filter { i in
            switch calls[i] {
            case .startHelper(let argv) where argv[0].hasPrefix("/hooks/"): return true
            case .poll(let p) where p.hasPrefix("pidfd:"): pids.insert(pid_t(p.dropFirst(6))!); return true
            case .wait(let pid, _): return pids.contains(pid)
            default: return false
            }
        }
    }

    // MARK: what every way out must leave

    func assertNothingLeft(_ w: World, _ label: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(w.kernel.directories.contains(directory), "\(label): the state directory is left", file: file, line: line)
        XCTAssertEqual(w.kernel.directories.filter { $0.hasPrefix(root + "/") }, [], "\(label): a directory is left", file: file, line: line)
        XCTAssertEqual(w.cgroups.existing, [], "\(label): the cgroup is left", file: file, line: line)
        XCTAssertEqual(w.kernel.liveChildren, [], "\(label): a child is left", file: file, line: line)
        XCTAssertEqual(w.network.running, [], "\(label): the network helper is left", file: file, line: line)
        XCTAssertEqual(w.kernel.heldLocks, [:], "\(label): a lock is held", file: file, line: line)
        XCTAssertEqual(w.kernel.openFDs, [], "\(label): an fd is open", file: file, line: line)
    }

    /// What the user's error must name for a failed call: its path, or what it did.
    func subject(_ call: RecordingKernel.Call) -> String {
        switch call {
        case .makeDirectory(let p), .createFile(let p), .readFile(let p), .removeFile(let p), .lock(let p),
             .makeFIFO(let p), .open(let p), .writeFile(let p, _), .createNewFile(let p), .sendFD(let p): p
        case .rename(let from, let to): from.hasSuffix(".nook-tmp") ? to : from // a file replaced whole is named by its own path
        case .socketPair: "socketpair"
        case .spawn: "clone3"
        case .sendGo: "send to the container's setup"
        case .receive: "read from the container's setup"
        case .wait(let pid, _): "waitpid \(pid)"
        case .signal(let pid, _): "kill \(pid)"
        case .adopt(let pid): "pidfd_open \(pid)"
        case .poll(let p) where p.hasPrefix("pidfd:"): "the hook's pidfd"
        case .write(let p), .poll(let p): p
        case .runHelper(let argv): argv[0]
        case .startHelper(let argv): argv[0]
        case .step(let s): s.split(separator: " ").last.map(String.init) ?? s
        default: call.description
        }
    }
}

