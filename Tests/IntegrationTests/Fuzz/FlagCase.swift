/// A random `nook run`, `create` or `exec` command line: real flags in random
/// combinations, with hostile values. Each flag with its value is one item, so
/// the minimizer can drop flags while the failure stays.
struct FlagCase: CustomStringConvertible {
    enum Command: String { case run, create, exec }
    var command: Command
    /// Global options (before the subcommand, as conmon passes them).
    var global: [[String]]
    var items: [[String]]
    /// The container id (create, exec) or nil (run picks --name or a generated id).
    var id: String?

    func argv(bundle: String, execTarget: String) -> [String] {
        var argv = global.flatMap { $0 } + [command.rawValue] + items.flatMap { $0 }
        switch command {
        case .run: argv += ["--", "/bin/true"]
        case .create:
            if !items.contains(where: { $0.first == "--bundle" }) { argv += ["--bundle", bundle] }
            argv.append(id ?? "")
        case .exec:
            argv.append(id ?? execTarget)
            if !items.contains(where: { $0.first == "--process" }) { argv += ["--", "/bin/true"] }
        }
        return argv
    }

    var description: String { "\(command.rawValue): " + (global + items).map { $0.map { FuzzJSON.quoted($0) }.joined(separator: " ") }.joined(separator: " ") }

    var detached: Bool { items.contains { $0 == ["-d"] || $0 == ["--detach"] } }
    var removes: Bool { items.contains { $0 == ["--rm"] } }
    var name: String? { items.first { $0.first == "--name" }?.last }
    /// Files the user asked nook to write: the pid file (the last --pid-file
    /// wins) on success, the --log file on failure.
    var outputs: [String] {
        [items.last { $0.first == "--pid-file" }?.last, global.last { $0.first == "--log" }?.last].compactMap { $0 }
    }
    /// Flags that change what or how the command runs: 126/127 are legitimate then.
    var touchesProcess: Bool { items.contains { ["--rootfs", "--cwd", "-u", "--user", "--process", "-w", "--workdir", "-e"].contains($0.first ?? "") } }

    static func random(index: Int, fixtures: FuzzFixtures, processFile: String, using rng: inout FuzzRandom) -> FlagCase {
        let command = rng.pick([Command.run, .run, .run, .create, .exec])
        var global: [[String]] = []
        if rng.chance(0.08) { global.append(["--root", rng.pick([fixtures.fifo, fixtures.zeroLink, fixtures.regular, "", "/dev/zero"])]) }
        if rng.chance(0.08) { global.append(["--log", rng.pick(fixtures.paths)]) }
        if rng.chance(0.05) { global.append(["--log-format", rng.pick(["json", "text", "bogus", ""])]) }
        let table: [(String, (inout FuzzRandom) -> [String])]
        let paths = fixtures.paths
        switch command {
        case .run: table = runFlags(fixtures: fixtures, index: index)
        case .create:
            table = [
                ("--bundle", { r in ["--bundle", r.pick(paths)] }),
                ("--pid-file", { r in ["--pid-file", r.pick(paths + [fixtures.dir + "/out.pid"])] }),
                ("--console-socket", { r in ["--console-socket", r.pick(paths)] }),
                ("--preserve-fds", { r in ["--preserve-fds", r.pick(FuzzValues.integers)] }),
                ("--trace", { _ in ["--trace"] }), ("--no-pivot", { _ in ["--no-pivot"] }), ("--no-new-keyring", { _ in ["--no-new-keyring"] }),
            ]
        case .exec:
            table = [
                ("-d", { _ in ["-d"] }), ("--pid-file", { r in ["--pid-file", r.pick(paths + [fixtures.dir + "/out.pid"])] }),
                ("-t", { _ in ["-t"] }), ("-i", { _ in ["-i"] }),
                ("--console-socket", { r in ["--console-socket", r.pick(paths)] }),
                ("-e", { r in ["-e", r.pick(envValues)] }),
                ("--cwd", { r in ["--cwd", r.pick(["/", "/nonexistent", "..", "relative", "/etc/passwd", "/proc/self/root", String(repeating: "/a", count: 3000)])] }),
                ("-u", { r in ["-u", r.pick(userValues)] }),
                ("--trace", { _ in ["--trace"] }),
                ("--process", { r in ["--process", r.chance(0.7) ? processFile : r.pick(paths)] }),
            ]
        }
        var items: [[String]] = []
        for _ in 0..<rng.int(0...5) {
            let (_, make) = rng.pick(table)
            items.append(make(&rng))
        }
        var id: String?
        switch command {
        case .run: break
        case .create: id = rng.chance(0.8) ? "fz-c\(index)" : rng.pick(hostileIDs)
        case .exec: id = rng.chance(0.9) ? nil : rng.pick(hostileIDs)
        }
        return FlagCase(command: command, global: global, items: items, id: id)
    }

    static let hostileIDs = ["../x", "a/b", "", String(repeating: "n", count: 300), ".", "-x", "\u{1b}[2Jx", "..", "a b", "nosuch"]
    static let envValues = ["A=1", "A", "=x", "\u{1b}]0;x\u{7}=1", "PATH=", "A=" + String(repeating: "v", count: 100_000), "A=\n"]
    static let userValues = ["0", "1000", "alice", "alice:staff", "nobody", "root:root", "99999999999", "-1", "0:-1", ":", "a:b:c",
                             "4294967295", "4294967294", "nosuchuser", ""]

    static func runFlags(fixtures: FuzzFixtures, index: Int) -> [(String, (inout FuzzRandom) -> [String])] {
        let paths = fixtures.paths
        let sizes = FuzzValues.sizes
        let ints = FuzzValues.integers
        return [
            ("--name", { r in ["--name", r.chance(0.7) ? "fz-r\(index)" : r.pick(hostileIDs)] }),
            ("--rootfs", { r in ["--rootfs", r.pick(paths)] }),
            ("-v", { r in ["-v", r.pick(paths) + ":" + r.pick(["/mnt", "/", "..", "/proc", "/dev/x", "relative", "/etc/passwd", ""])
                           + r.pick(["", ":ro", ":rw", ":bogus", ":ro,ro", ":"])] }),
            ("--tmpfs", { r in ["--tmpfs", r.pick(["/tmp:size=1k", "/x:mode=9999", "/proc", "..", ":", "/x:size=99999999999999999999", "/x:bogus", "/dev"])] }),
            ("-e", { r in ["-e", r.pick(envValues)] }),
            ("--env-file", { r in ["--env-file", r.pick(paths)] }),
            ("-w", { r in ["-w", r.pick(["/", "/nonexistent", "..", "relative", "/etc/passwd", "/proc/self/root", String(repeating: "/a", count: 3000)])] }),
            ("--hostname", { r in ["--hostname", r.pick(["x", "", String(repeating: "h", count: 300), "a b", "\u{1b}[2J"])] }),
            ("--read-only", { _ in ["--read-only"] }), ("--trace", { _ in ["--trace"] }), ("-i", { _ in ["-i"] }),
            ("-t", { _ in ["-t"] }), ("--init", { _ in ["--init"] }), ("-d", { _ in ["-d"] }), ("--rm", { _ in ["--rm"] }),
            ("-u", { r in ["-u", r.pick(userValues)] }),
            ("--userns", { r in ["--userns", r.pick(["auto", "keep-id", "host", "", "bogus"])] }),
            ("--cap-add", { r in ["--cap-add", r.pick(["ALL", "NET_RAW", "CAP_SYS_ADMIN", "cap_chown", "BOGUS", "", "CAP_"])] }),
            ("--cap-drop", { r in ["--cap-drop", r.pick(["ALL", "NET_RAW", "CAP_SYS_ADMIN", "cap_chown", "BOGUS", "", "CAP_"])] }),
            ("--seccomp-profile", { r in ["--seccomp-profile", r.pick(paths)] }),
            ("--seccomp", { r in ["--seccomp", r.pick(["unconfined", "bogus", ""])] }),
            ("--security-opt", { r in ["--security-opt", r.pick(["no-new-privileges", "no-new-privileges=false", "=", "", "seccomp=unconfined",
                                                                 "seccomp=" + r.pick(paths), "label=disable", "apparmor=x"])] }),
            ("--ulimit", { r in ["--ulimit", r.pick(["nofile=1024", "nofile=1024:2048", "nofile=99999999999", "nproc=-1", "core=0", "bogus=1",
                                                     "nofile=2:1", "nofile", "=", "nofile=unlimited", "stack=-1:-1", "cpu=1.5"])] }),
            ("--preserve-fds", { r in ["--preserve-fds", r.pick(ints)] }),
            ("--memory", { r in ["--memory", r.pick(sizes)] }),
            ("--memory-swap", { r in ["--memory-swap", r.pick(sizes)] }),
            ("--memory-reservation", { r in ["--memory-reservation", r.pick(sizes)] }),
            ("--pids-limit", { r in ["--pids-limit", r.pick(ints)] }),
            ("--cpus", { r in ["--cpus", r.pick(["0.5", "inf", "nan", "1e3", "0", "0.01", "0.001", "175921860", "175921861", "-1", ".5", "1.", ""])] }),
            ("--cpu-shares", { r in ["--cpu-shares", r.pick(ints)] }),
            ("--cpuset-cpus", { r in ["--cpuset-cpus", r.pick(["0", "0-1", "99", "-", "a", "0-99999999999", ""])] }),
            ("--blkio-weight", { r in ["--blkio-weight", r.pick(ints)] }),
            ("--device-read-bps", { r in ["--device-read-bps", r.pick(["/dev/zero:1m", "/dev/loop0:1m", "/dev/vda:" + r.pick(sizes), ":", "/dev/vda"])] }),
            ("--device-write-bps", { r in ["--device-write-bps", r.pick(["/dev/zero:1m", "/dev/loop0:0", "/dev/vda:" + r.pick(sizes), fixtures.fifo + ":1m"])] }),
            ("--network", { r in ["--network", r.pick(["none", "host", "none", "bogus", "pasta:--bogus", "slirp4netns:port_handler=x", ""])] }),
            ("-p", { r in ["-p", r.pick(["8080:80", "99999:1", "a:b", "127.0.0.1:0:80/tcp", "::1:1:1", "1:1/sctp", ""])] }),
        ]
    }
}
