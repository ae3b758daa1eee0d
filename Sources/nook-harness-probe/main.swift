// A small program that uses NookKit as a test harness would, run by the
// integration tests as an unprivileged user (the library must work for a
// rootless caller; the test process itself runs as root in CI):
//   serve ROOTFS         busybox httpd in a container, ready on a published
//                        port, a page fetched; prints what it saw
//   orphan ROOTFS N      starts N containers, prints "started ID PID STATEDIR"
//                        for each and "all started", then waits to be killed
//   unready ROOTFS       a server that never answers: the readiness error, and
//                        withContainer's cleanup when its body throws
//   bench ROOTFS RUNS    start-to-ready of busybox httpd, RUNS times; prints the median
//   kinds ROOTFS         failed starts, each printed as the kind of its error
//                        (what a harness matches), however far down it failed
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
        case .notExecutable(let command, let err): return "notExecutable \(command) \(errnoName(err.rawValue)), exit \(error.exitCode)"
        case .systemCall(_, let path, let err): return "systemCall \(path ?? "-") \(errnoName(err.rawValue))"
        case .alreadyExists(let subject, let name): return "alreadyExists \(subject) \(name)"
        default: return "NookError \(error.kind): \(error)"
        }
    } catch let error as ContainerError {
        if case .timedOut(let timeout) = error.kind { return "ContainerError timedOut \(timeout)" }
        return "ContainerError \(error.kind): \(error)"
    } catch {
        return "\(type(of: error)): \(error)"
    }
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
            for try await line in web.logs { firstLine = line; break }
            say("first-log-line: \(firstLine)")
            say("state-dir: \(web.stateDirectory)")
        }
        // withContainer removed it: nothing of it may be left.
        say("done")
    case "orphan":
        let count = args.count > 3 ? Int(args[3]) ?? 1 : 1
        for _ in 0..<count {
            var request = ContainerRequest(rootfs: rootfs, command: ["sleep", "1000"])
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
        say("left after the failed start: \(access((request.stateRoot ?? StateStore.defaultRoot(environment: request.callerEnvironment)) + "/" + request.name!, F_OK) == 0)")
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
    default:
        say("unknown mode \(args[1])")
        exit(2)
    }
} catch {
    say("error: \(error)")
    exit(1)
}
