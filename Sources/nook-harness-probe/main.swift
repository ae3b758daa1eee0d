// A small program that uses NookKit as a test harness would, run by the
// integration tests as an unprivileged user (the library must work for a
// rootless caller; the test process itself runs as root in CI):
//   serve ROOTFS         busybox httpd in a container, ready on a published
//                        port, a page fetched; prints what it saw
//   orphan ROOTFS N [IMAGE]  starts N containers (the last from IMAGE if given), prints "started ID PID STATEDIR"
//                        for each and "all started", then waits to be killed
//   unready ROOTFS       a server that never answers: the readiness error, and
//                        withContainer's cleanup when its body throws
//   kinds ROOTFS         failed starts, each printed as the kind of its error
//                        (what a harness matches), however far down it failed
//   bench ROOTFS RUNS    start-to-ready of busybox httpd, RUNS times; prints the median
//   parallel ROOTFS N    N busybox httpd at once; prints the wall time until all are ready
//   streams ROOTFS       stdout and stderr apart, log lines with their stream,
//                        stdin /dev/null by default or the request's input
//   stdin ROOTFS         the request's input read, and the container's writes to it refused
//   rotation ROOTFS      logs followed while the log rotates twice: each line once, in order, its stream right
//   rotation-race ROOTFS with NOOK_FAULT_STOP=log.rotate: stdout and stderr read while the
//                        monitor is stopped between renaming the log and its stream map
//   signals ROOTFS       wait's timeout, stop's SIGKILL after its timeout, kill(signal:)
//   image IMAGE          a container from an image in the store ($XDG_DATA_HOME)
import Glibc
import NookKit

func httpdRequest(_ rootfs: String, page: String) -> ContainerRequest {
    var request = ContainerRequest(rootfs: rootfs, command: ["sh", "-c", "mkdir -p /www && echo '\(page)' > /www/index.html && echo serving && exec httpd -f -p 80 -h /www"])
    request.ports = [80]
    request.readiness = [.logLine(containing: "serving"), .http(port: 80, path: "/index.html")]
    return request
}

func fetch(port: UInt16, path: String) -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    let request = "GET \(path) HTTP/1.0\r\n\r\n"
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    var all: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        all += buffer[0..<n]
    }
    close(fd)
    return String(decoding: all, as: UTF8.self)
}

func trimmed(_ text: String) -> String {
    String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
}

/// How `request.start()` failed, as a harness would match it: the error's kind, not its words.
func failureKind(_ request: ContainerRequest) async -> String {
    do {
        await (try await request.start()).remove()
        return "started"
    } catch let error as NookError {
        switch error.kind {
        case .commandNotFound(let command): return "commandNotFound \(command), exit \(error.exitCode)"
        case .notExecutable(let command, let err): return "notExecutable \(command) \(name(of: err.rawValue)), exit \(error.exitCode)"
        case .systemCall(_, let path, let err): return "systemCall \(path ?? "-") \(name(of: err.rawValue))"
        case .alreadyExists(let subject, let name): return "alreadyExists \(subject) \(name)"
        default: return "NookError \(error.kind): \(error)"
        }
    } catch let error as ContainerError {
        if error.kind == .timedOut { return "ContainerError timedOut" }
        return "ContainerError \(error.kind): \(error)"
    } catch {
        return "\(type(of: error)): \(error)"
    }
}

/// The errnos the tests expect by name; a harness compares with Glibc's constants too.
func name(of err: Int32) -> String {
    switch err {
    case EACCES: "EACCES"
    case ENOENT: "ENOENT"
    default: "errno \(err)"
    }
}

/// Stopped by a signal (state T in /proc/PID/stat).
func isStopped(_ pid: Int32) -> Bool {
    let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 512)
    let n = read(fd, &buffer, buffer.count)
    guard n > 0, let close = buffer[..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { return false }
    return buffer[close + 2] == UInt8(ascii: "T")
}

func ms(_ value: Double) -> String { String(Double(Int(value * 10)) / 10) }

func say(_ line: String) {
    // One write per line: the test reads lines as they come.
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    say("usage: nook-harness-probe serve|orphan|bench ROOTFS [N]")
    exit(2)
}
let rootfs = args[2]
do {
    switch args[1] {
    case "serve":
        try await withContainer(httpdRequest(rootfs, page: "hello from nook")) { web in
            let port = web.hostPort(for: 80) ?? 0
            let reply = fetch(port: port, path: "/index.html")
            say("status-line: \(reply.split(separator: "\r\n").first ?? "")")
            say("body: \(trimmed(reply.split(separator: "\r\n\r\n", omittingEmptySubsequences: false).last.map(String.init) ?? ""))")
            let inside = try await web.exec(["sh", "-c", "echo out; echo err >&2; exit 3"])
            say("exec: \(inside.status) \(trimmed(inside.stdout)) \(trimmed(inside.stderr))")
            var firstLine = ""
            for try await line in web.logs { firstLine = line.text; break }
            say("first-log-line: \(firstLine)")
            say("state-dir: \(web.stateDirectory)")
        }
        // withContainer removed it: nothing of it may be left.
        say("done")
    case "orphan":
        let count = args.count > 3 ? Int(args[3]) ?? 1 : 1
        // With IMAGE, the last one runs from that image, over a layer of its own.
        let image = args.count > 4 ? args[4] : nil
        for i in 0..<count {
            var request = ContainerRequest(rootfs: rootfs, command: ["sleep", "1000"])
            if let image, i == count - 1 { request = ContainerRequest(image: image, command: ["sleep", "1000"]) }
            request.readiness = [.command(["true"])]
            let handle = try await request.start()
            say("started \(handle.id) \(handle.pid) \(handle.monitorPID) \(handle.stateDirectory)")
        }
        say("all started")
        while true { try await Task.sleep(for: .seconds(60)) }
    case "unready":
        var request = ContainerRequest(rootfs: rootfs, command: ["sh", "-c", "echo booting; echo still booting; exec sleep 1000"])
        request.ports = [80]
        request.readiness = [.http(port: 80, path: "/")]
        request.readinessTimeout = .milliseconds(500)
        request.name = "unready-\(getpid())"
        do {
            _ = try await request.start()
            say("started: no error")
        } catch {
            say("readiness error: \(error)")
        }
        say("left after the failed start: \(access(request.stateDirectory!, F_OK) == 0)")
        struct Thrown: Error {}
        var directory = ""
        do {
            _ = try await withContainer(ContainerRequest(rootfs: rootfs, command: ["sleep", "1000"])) { handle -> Int in
                directory = handle.stateDirectory
                throw Thrown()
            }
        } catch is Thrown {
            say("left after a throwing body: \(access(directory, F_OK) == 0)")
        }
    case "kinds":
        say("missing command: " + (await failureKind(ContainerRequest(rootfs: rootfs, command: ["no-such-command"]))))
        say("not executable: " + (await failureKind(ContainerRequest(rootfs: rootfs, command: ["/etc/passwd"]))))
        say("missing rootfs: " + (await failureKind(ContainerRequest(rootfs: rootfs + "/nothing-here", command: ["true"]))))
        var first = ContainerRequest(rootfs: rootfs, command: ["sleep", "1000"])
        first.name = "kinds-\(getpid())"
        let holder = try await first.start()
        say("name in use: " + (await failureKind(first)))
        await holder.remove()
        var unready = ContainerRequest(rootfs: rootfs, command: ["sleep", "1000"])
        unready.readiness = [.command(["false"])]
        unready.readinessTimeout = .milliseconds(300)
        say("never ready: " + (await failureKind(unready)))
    case "bench":
        let runs = args.count > 3 ? Int(args[3]) ?? 50 : 50
        var times: [Double] = []
        for i in 0..<runs {
            let clock = ContinuousClock()
            let start = clock.now
            try await withContainer(httpdRequest(rootfs, page: "run \(i)")) { _ in
                let elapsed = clock.now - start
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        say("start-to-ready median over \(runs) runs: \(ms(median)) ms (min \(ms(times.first ?? 0)), max \(ms(times.last ?? 0)))")
    case "parallel":
        let count = args.count > 3 ? Int(args[3]) ?? 20 : 20
        let clock = ContinuousClock()
        let start = clock.now
        let handles = try await withThrowingTaskGroup(of: ContainerHandle.self) { group in
            for i in 0..<count { group.addTask { try await httpdRequest(rootfs, page: "server \(i)").start() } }
            var all: [ContainerHandle] = []
            for try await handle in group { all.append(handle) }
            return all
        }
        let elapsed = clock.now - start
        for handle in handles { await handle.remove() }
        say("\(count) in parallel, all ready: \(ms(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)) ms")
    case "streams":
        let script = "echo out1; echo err1 >&2; printf 'out'; echo err2 >&2; echo 2; [ \"$(readlink /proc/self/fd/0)\" = /dev/null ] && echo stdin-null; cat"
        for input in [nil, Array("typed in\n".utf8)] {
            var request = ContainerRequest(rootfs: rootfs, command: ["sh", "-c", script])
            request.stdin = input
            try await withContainer(request) { container in
                say("exit: \(try await container.wait(timeout: .seconds(30)))")
                say("stdout: \(container.stdout().debugDescription)")
                say("stderr: \(container.stderr().debugDescription)")
                // Lines of one stream keep their order; across streams the
                // monitor's reads decide it, so each is shown on its own.
                var lines: [LogLine] = []
                for try await line in container.logs { lines.append(line) }
                for stream in [LogLine.Stream.stdout, .stderr] {
                    say("logs \(stream): \(lines.filter { $0.stream == stream }.map(\.text).joined(separator: "|"))")
                }
            }
        }
    case "stdin":
        // Read to its end, then written through fd 0 and by reopening /proc/self/fd/0, then read again.
        let script = "cat; (echo x >&0) 2>/dev/null && echo 'fd 0: written' || echo 'fd 0: refused'; " +
            "(echo y > /proc/self/fd/0) 2>/dev/null && echo 'reopened: written' || echo 'reopened: refused'; cat /proc/self/fd/0"
        var request = ContainerRequest(rootfs: rootfs, command: ["sh", "-c", script])
        request.stdin = Array("typed in\n".utf8)
        try await withContainer(request) { container in
            say("exit: \(try await container.wait(timeout: .seconds(30)))")
            for line in container.stdout().split(separator: "\n") { say("stdout: \(line)") }
        }
    case "rotation":
        // Five rounds of 2,500 lines of about 100 bytes on each stream: 2.5 MiB, so the
        // monitor's 1 MiB log rotates twice. Each round waits until this reader has seen
        // it (an exec makes /dev/shm/goN), so the log never rotates past a file unread.
        let (rounds, perRound) = (5, 2500)
        let script = """
            pad=$(printf '%080d' 0); r=0
            while [ $r -lt \(rounds) ]; do
              i=0
              while [ $i -lt \(perRound) ]; do echo "out $r $i $pad"; echo "err $r $i $pad" >&2; i=$((i+1)); done
              echo "round $r"
              while [ ! -e /dev/shm/go$r ]; do sleep 0.01; done
              r=$((r+1))
            done
            """
        try await withContainer(ContainerRequest(rootfs: rootfs, command: ["sh", "-c", script])) { container in
            var seen: [LogLine.Stream: [String]] = [:]
            var round = 0
            for try await line in container.logs {
                if line.stream == .stdout && line.text == "round \(round)" {
                    _ = try await container.exec(["touch", "/dev/shm/go\(round)"])
                    round += 1
                } else {
                    seen[line.stream, default: []].append(line.text)
                }
            }
            say("exit: \(try await container.wait(timeout: .seconds(30))), rounds: \(round)")
            let pad = String(repeating: "0", count: 80)
            for (stream, name) in [(LogLine.Stream.stdout, "out"), (.stderr, "err")] {
                let lines = seen[stream] ?? []
                let expected = (0..<rounds).flatMap { r in (0..<perRound).map { "\(name) \(r) \($0) \(pad)" } }
                say("\(stream): \(lines.count) lines, as written: \(lines == expected)")
            }
            say("nook: \((seen[.nook] ?? []).count) lines")
        }
    case "rotation-race":
        // 2.6 MiB: two rotations; the monitor stops itself in each (a debug build's fault point).
        let script = "pad=$(printf '%080d' 0); i=0; while [ $i -lt 14000 ]; do echo \"out $i $pad\"; echo \"err $i $pad\" >&2; i=$((i+1)); done"
        try await withContainer(ContainerRequest(rootfs: rootfs, command: ["sh", "-c", script])) { container in
            // The oldest line may be cut: its start went with a rotated-out file.
            func foreign(_ text: String, _ own: String) -> Int { text.split(separator: "\n").dropFirst().filter { !$0.hasPrefix(own) }.count }
            for rotation in 1...2 {
                var waited = 0
                while !isStopped(container.monitorPID) && waited < 12000 { try await Task.sleep(for: .milliseconds(5)); waited += 1 }
                guard isStopped(container.monitorPID) else { say("the monitor never stopped at log.rotate (a release build?)"); exit(1) }
                if rotation == 2 {
                    say("mid-rotation: stdout has \(foreign(container.stdout(), "out ")) lines of stderr, stderr \(foreign(container.stderr(), "err ")) of stdout")
                }
                kill(container.monitorPID, SIGCONT)
            }
            say("exit: \(try await container.wait(timeout: .seconds(60)))")
            say("after: stdout has \(foreign(container.stdout(), "out ")) lines of stderr, stderr \(foreign(container.stderr(), "err ")) of stdout")
        }
    case "signals":
        // wait(timeout:) on a container that does not exit: a typed timeout, and it runs on.
        try await withContainer(ContainerRequest(rootfs: rootfs, command: ["sleep", "1000"])) { container in
            do {
                let code = try await container.wait(timeout: .milliseconds(300))
                say("wait: exited \(code)")
            } catch let error as ContainerError where error.kind == .timedOut {
                say("wait: timed out, still runs: \(try container.exitCode() == nil && kill(container.pid, 0) == 0)")
            }
        }
        // stop(timeout:) on a container that ignores SIGTERM: SIGKILL once the timeout passed.
        let ignoring = "trap '' TERM; echo ready; sleep 1000 & wait; wait"
        var request = ContainerRequest(rootfs: rootfs, command: ["sh", "-c", ignoring])
        request.readiness = [.logLine(containing: "ready")]
        try await withContainer(request) { container in
            let clock = ContinuousClock(), start = clock.now
            try await container.stop(timeout: .seconds(1))
            let waited = clock.now - start
            say("stop: exit \(try container.exitCode().map(String.init) ?? "none"), waited at least the timeout: \(waited >= .seconds(1))")
        }
        // kill(signal:): the container's trap sees it.
        let trapping = "trap 'echo got USR1; exit 5' USR1; echo ready; sleep 1000 & wait"
        request = ContainerRequest(rootfs: rootfs, command: ["sh", "-c", trapping])
        request.readiness = [.logLine(containing: "ready")]
        try await withContainer(request) { container in
            try await container.kill(signal: SIGUSR1)
            say("kill: exit \(try await container.wait(timeout: .seconds(30))), stdout \(container.stdout().debugDescription)")
        }
    case "image":
        var request = ContainerRequest(image: rootfs)
        try await withContainer(request) { container in
            say("image default: exit \(try await container.wait(timeout: .seconds(30))), stdout \(container.stdout().debugDescription)")
        }
        request = ContainerRequest(image: rootfs, command: ["from", "the", "request"])
        try await withContainer(request) { container in
            say("image command: exit \(try await container.wait(timeout: .seconds(30))), stdout \(container.stdout().debugDescription)")
        }
        do {
            _ = try await ContainerRequest(image: "no-such-image:1").start()
            say("unknown image: started")
        } catch {
            say("unknown image: \(error)")
        }
    default:
        say("unknown mode \(args[1])")
        exit(2)
    }
} catch {
    say("error: \(error)")
    exit(1)
}
