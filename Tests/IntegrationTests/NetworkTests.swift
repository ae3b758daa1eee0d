import Foundation
import XCTest

/// `--network` and `-p`, observed from both sides: what the container's
/// namespace has, what the host can reach, and which processes exist.
/// Only loopback addresses are used (and, for pasta with --map-gw, the
/// gateway address, which pasta maps to the host's loopback).
final class NetworkTests: XCTestCase {
    var h: Harness { Harness.shared }

    /// The user-mode helpers installed here; a test for a missing one is skipped.
    /// `none` publishes through nook's own forwarder, which is always there.
    func helper(_ name: String) throws -> String {
        if name == "none" { return name }
        let program = name == "pasta" ? "pasta" : "slirp4netns"
        guard Harness.isInstalled(program) else {
            throw XCTSkip("\(program) is not installed (Debian package \(name == "pasta" ? "passt" : "slirp4netns"))")
        }
        return name
    }

    func state(_ name: String) -> [String: Any]? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: h.stateDir() + "/\(name)/state.json")) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    func helperPID(_ name: String) -> Int32? { (state(name)?["networkHelperPID"] as? Int).map(Int32.init) }

    /// The command line of a process, as the kernel has it.
    func commandName(_ pid: Int32) -> String {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// A directory with index.html, served by busybox httpd from /www.
    func site(_ text: String) throws -> String {
        let dir = try h.scratch("www")
        try text.write(toFile: dir + "/index.html", atomically: true, encoding: .utf8)
        chmod(dir + "/index.html", 0o644)
        return dir
    }

    func testWebServerThroughPublishedPortWithEitherHelper() throws {
        for mode in ["none", "pasta", "slirp4netns"] {
            guard let mode = try? helper(mode) else { continue }
            let name = Harness.name("web")
            let port = try Loopback.freePort()
            let www = try site("hello from \(mode)\n")
            let nook = try h.start(["run", "--init", "--name", name, "--network", mode, "-p", "127.0.0.1:\(port):80",
                                    "-v", "\(www):/www:ro", "--rootfs", h.rootfs, "--", "httpd", "-f", "-p", "80", "-h", "/www"])
            var page = ""
            XCTAssertTrue(Harness.eventually(15) {
                page = (try? Loopback.httpGet(port: port)) ?? ""
                return page.contains("hello from \(mode)")
            }, "\(mode): GET http://127.0.0.1:\(port)/ gave '\(page)'; nook: \(nook.stderrText)")
            XCTAssertTrue(page.hasPrefix("HTTP/1.") && page.contains(" 200 "), page)

            let helperPID = try XCTUnwrap(helperPID(name), "state.json names the helper")
            XCTAssertTrue(Harness.isAlive(helperPID))
            XCTAssertTrue(["nook-forward", "pasta", "passt", "passt.avx2", "slirp4netns"].contains(commandName(helperPID)), commandName(helperPID))
            XCTAssertEqual(Harness.children(of: nook.pid).contains(helperPID), true, "the helper is nook's own child")

            XCTAssertEqual(kill(nook.pid, SIGTERM), 0)   // forwarded to the init, which stops httpd
            XCTAssertEqual(nook.wait(), 143, nook.stderrText)
            XCTAssertFalse(Harness.isAlive(helperPID), "\(mode) ended with the container")
            XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(name)"), "state (and the helper's socket) removed")
            XCTAssertThrowsError(try Loopback.httpGet(port: port), "nothing listens on the port any more")
        }
    }

    func testDataSentJustBeforeTheContainerExitsStillArrives() throws {
        // The helper is stopped only once it has relayed what the container wrote.
        for mode in ["none", "pasta", "slirp4netns"] {
            guard let mode = try? helper(mode) else { continue }
            let port = try Loopback.freePort()
            let nook = try h.start(["run", "--network", mode, "-p", "127.0.0.1:\(port):5000", "--rootfs", h.rootfs,
                                    "--", "/bin/probe", "tcp_serve:5000:64"])
            var received = 0
            // A helper may accept before the probe listens; such a connection ends empty: retry.
            XCTAssertTrue(Harness.eventually(15) {
                received = (try? Loopback.download(port: port)) ?? 0
                return received > 0
            }, nook.stderrText)
            XCTAssertEqual(nook.wait(), 0, nook.stderrText)
            XCTAssertEqual(received, 64 << 20, "\(mode): every byte arrived")
        }
    }

    func testUDPThroughPublishedPort() throws {
        for mode in ["pasta", "slirp4netns", "slirp4netns:allow_host_loopback=true"] {
            guard (try? helper(String(mode.prefix { $0 != ":" }))) != nil else { continue }
            let port = try Loopback.freePort(udp: true)
            let nook = try h.start(["run", "--network", mode, "-p", "127.0.0.1:\(port):5353/udp", "--rootfs", h.rootfs,
                                    "--", "/bin/probe", "udp_echo:5353"], captureOutput: true)
            let client = try Loopback.UDPClient()
            var reply: String?
            // Datagrams sent before the probe binds are lost: keep sending until it answers or ends.
            XCTAssertTrue(Harness.eventually(20) {
                reply = reply ?? client.exchange("hello", port: port)
                return !Harness.isAlive(nook.pid) || reply != nil
            })
            XCTAssertEqual(nook.wait(), 0, nook.stderrText)
            XCTAssertTrue(nook.stdoutText.contains("udp_echo:5353 result=ok detail=got=hello,from="), "\(mode): \(nook.stdoutText)")
            if mode.contains("allow_host_loopback=true") {
                // The other helpers drop the reply to a client on the host's loopback (see Docs/networking.md).
                reply = reply ?? client.receive(timeout: 2)
                XCTAssertEqual(reply, "echo:hello", "\(mode): the reply comes back")
            }
        }
    }

    func testHostLoopbackIsClosedUnlessAskedFor() throws {
        let server = try Loopback.PongServer()
        var allowed = 0
        if (try? helper("slirp4netns")) != nil {
            let closed = try h.run(["run", "--network", "slirp4netns", "--rootfs", h.rootfs, "--", "/bin/probe", "tcp_connect:10.0.2.2:\(server.port)"])
            XCTAssertTrue(closed.stdout.contains("result=err"), "10.0.2.2 is not the host by default: \(closed.stdout)\(closed.stderr)")
            let open = try h.run(["run", "--network", "slirp4netns:allow_host_loopback=true", "--rootfs", h.rootfs,
                                  "--", "/bin/probe", "tcp_connect:10.0.2.2:\(server.port)"])
            XCTAssertTrue(open.stdout.contains("result=ok detail=reply=pong"), open.stdout + open.stderr)
            allowed += 1
        }
        if (try? helper("pasta")) != nil {
            // pasta's -T would forward the container's own 127.0.0.1 ports to the host's: Nook passes -T none.
            let closed = try h.run(["run", "--network", "pasta", "--rootfs", h.rootfs, "--", "/bin/probe", "tcp_connect:127.0.0.1:\(server.port)"])
            XCTAssertTrue(closed.stdout.contains("result=err errno=ECONNREFUSED"), closed.stdout + closed.stderr)
            if let gateway = Loopback.defaultGateway() {
                // The address --map-gw opens is the one that would reach the host: closed without it.
                // (-o 127.0.0.1 binds pasta's own sockets to loopback, so the kernel refuses pasta's
                // connect to anything off this machine and the probe gets no answer: refused or timed out.)
                let shut = try h.run(["run", "--network", "pasta:-o,127.0.0.1", "--rootfs", h.rootfs,
                                      "--", "/bin/probe", "tcp_connect:\(gateway):\(server.port)"])
                XCTAssertTrue(shut.stdout.contains("result=err"), "without --map-gw the gateway is not the host's loopback: \(shut.stdout)\(shut.stderr)")
                let open = try h.run(["run", "--network", "pasta:--map-gw", "--rootfs", h.rootfs,
                                      "--", "/bin/probe", "tcp_connect:\(gateway):\(server.port)"])
                XCTAssertTrue(open.stdout.contains("result=ok detail=reply=pong"), "--map-gw: the gateway is the host's loopback: \(open.stdout)\(open.stderr)")
                allowed += 1
                let hosts = try h.run(["run", "--network", "pasta:--map-gw", "--rootfs", h.rootfs, "--", "cat", "/etc/hosts"])
                XCTAssertTrue(hosts.stdout.contains("\(gateway)\thost.containers.internal"), hosts.stdout)
            }
        }
        XCTAssertEqual(server.connections, allowed, "only the allowed attempts reached the host")
    }

    func testNetworkNoneHasOnlyLoopback() throws {
        let r = try h.run(["run", "--network", "none", "--rootfs", h.rootfs, "--", "sh", "-c",
                           "ls /sys/class/net; echo routes; tail -n +2 /proc/net/route; /bin/probe tcp_connect:10.0.2.2:80"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("lo\nroutes\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("tcp_connect:10.0.2.2:80 result=err errno=ENETUNREACH"), r.stdout)
        let name = Harness.name("quiet")
        let hosts = try h.run(["run", "--name", name, "--rootfs", h.rootfs, "--", "cat", "/etc/hosts", "/etc/hostname"])
        XCTAssertTrue(hosts.stdout.contains("127.0.0.1\tlocalhost") && hosts.stdout.contains("127.0.1.1\t\(name)\n\(name)\n"), hosts.stdout)
    }

    /// `-p` with `--network none`: nook's own forwarder carries the published
    /// port into the container, and nothing else. Seen from inside, the
    /// container still has only `lo`, no route, and no way back to the host
    /// (its 127.0.0.1 is its own); the forwarder is invisible there, holds no
    /// capability, and cannot be ptraced or read through /proc by the
    /// container's user. A port nobody listens on inside closes the client's
    /// connection instead of leaving it hanging.
    func testPortsPublishedWithNetworkNoneReachOnlyTheContainer() throws {
        let name = Harness.name("fwd")
        let port = try Loopback.freePort(), unserved = try Loopback.freePort(), echo = try Loopback.freePort()
        let host = try Loopback.PongServer()
        let www = try site("forwarded\n")
        let nook = try h.start(["run", "--init", "--name", name, "-p", "127.0.0.1:\(port):80", "-p", "127.0.0.1:\(unserved):81",
                                "-p", "127.0.0.1:\(echo):82", "-v", "\(www):/www:ro", "--rootfs", h.rootfs, "--",
                                "sh", "-c", "busybox nc -l -p 82 -e cat & exec httpd -f -p 80 -h /www"])
        XCTAssertTrue(Harness.eventually(15) { ((try? Loopback.httpGet(port: port)) ?? "").contains("forwarded") }, nook.stderrText)
        // Each end's end of file reaches the other: the client's makes cat exit, and
        // cat's closes the client's connection. A forwarder that kept either to
        // itself would leave this read waiting until its timeout (EAGAIN).
        var echoed: (text: String, end: Int, errno: Int32) = ("", 0, 0)
        XCTAssertTrue(Harness.eventually(15) {
            guard let fd = try? Loopback.connected(port: echo, timeout: 30) else { return false }
            defer { close(fd) }
            _ = write(fd, "ping", 4)
            shutdown(fd, Int32(SHUT_WR))
            var buf = [UInt8](repeating: 0, count: 64)
            var got: [UInt8] = []
            var n = 0
            repeat { n = read(fd, &buf, buf.count); if n > 0 { got += buf[0..<n] } } while n > 0
            echoed = (String(decoding: got, as: UTF8.self), n, errno)
            return !got.isEmpty  // empty: nc was not listening yet, the connection was closed
        }, "echo: \(echoed)")
        XCTAssertEqual(echoed.text, "ping")
        XCTAssertEqual(echoed.end, 0, "the connection ended with end of file, errno \(echoed.errno) (EAGAIN: it hung)")
        let forwarder = try XCTUnwrap(helperPID(name), "state.json names the forwarder")
        XCTAssertEqual(commandName(forwarder), "nook-forward")
        XCTAssertEqual(Harness.children(of: nook.pid).contains(forwarder), true, "the forwarder is nook's own child")
        let status = (try? String(contentsOfFile: "/proc/\(forwarder)/status", encoding: .utf8)) ?? ""
        XCTAssertTrue(status.contains("CapEff:\t0000000000000000") && status.contains("CapPrm:\t0000000000000000"), status)
        XCTAssertTrue(status.contains("NoNewPrivs:\t1"), status)
        // Not dumpable: its /proc files belong to root, not to the user it runs as.
        var info = stat()
        XCTAssertEqual(stat("/proc/\(forwarder)/environ", &info), 0)
        XCTAssertEqual(info.st_uid, 0, "the forwarder is not dumpable")
        let containerPID = try XCTUnwrap((state(name)?["pid"] as? Int).map(Int32.init))
        for ns in ["net", "user"] {
            let theirs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(containerPID)/ns/\(ns)")
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(forwarder)/ns/\(ns)"), theirs,
                           "the forwarder is in the container's \(ns) namespace")
        }
        XCTAssertNotEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(forwarder)/ns/pid"),
                          try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(containerPID)/ns/pid"))

        let inside = try h.run(["exec", name, "sh", "-c",
                                "ls /sys/class/net; echo routes; tail -n +2 /proc/net/route; ps -o comm; " +
                                "/bin/probe tcp_connect:127.0.0.1:\(host.port); /bin/probe tcp_connect:10.0.2.2:80"])
        XCTAssertEqual(inside.status, 0, inside.stderr)
        XCTAssertTrue(inside.stdout.hasPrefix("lo\nroutes\n"), inside.stdout)
        XCTAssertFalse(inside.stdout.contains("nook-forward"), "the forwarder is not among the container's processes: \(inside.stdout)")
        XCTAssertTrue(inside.stdout.contains("tcp_connect:127.0.0.1:\(host.port) result=err errno=ECONNREFUSED"),
                      "the container's loopback is its own, not the host's: \(inside.stdout)")
        XCTAssertTrue(inside.stdout.contains("tcp_connect:10.0.2.2:80 result=err errno=ENETUNREACH"), inside.stdout)
        XCTAssertEqual(host.connections, 0)

        // Port 81 is published, nothing listens on it inside: the client's connection
        // is reset, as pasta does (not ended cleanly as if served, nor left hanging).
        let client = try Loopback.connected(port: unserved, timeout: 30)
        defer { close(client) }
        var byte: UInt8 = 0
        let n = read(client, &byte, 1)
        let err = errno
        XCTAssertTrue(n < 0 && err == ECONNRESET, "read gave \(n), errno \(err) (0: a clean end; EAGAIN: it hung)")

        XCTAssertEqual(kill(nook.pid, SIGTERM), 0)
        XCTAssertEqual(nook.wait(), 143, nook.stderrText)
        XCTAssertFalse(Harness.isAlive(forwarder), "the forwarder ended with the container")
        XCTAssertThrowsError(try Loopback.httpGet(port: port), "nothing listens on the port any more")
    }

    /// Clients of one published port cannot take another port's slots. Under
    /// an fd limit of 96, the forwarder carries 32 connections at once and
    /// keeps 8 for each port while that port uses fewer: 40 idle clients of
    /// one port get 24, and the other port still answers.
    func testOnePortsClientsCannotTakeAnotherPortsSlots() throws {
        let name = Harness.name("share")
        let busy = try Loopback.freePort(), spare = try Loopback.freePort()
        let www = try site("still served\n")
        let argv = ["/usr/bin/prlimit", "--nofile=96:96", "--"]
            + h.commandLine(["run", "--init", "--name", name, "-p", "127.0.0.1:\(busy):80", "-p", "127.0.0.1:\(spare):80",
                             "-v", "\(www):/www:ro", "--rootfs", h.rootfs, "--", "httpd", "-f", "-p", "80", "-h", "/www"])
        let err = NSTemporaryDirectory() + "nook-share-\(getpid()).err"
        let nook = Harness.Background(pid: try Harness.spawn(argv, stdin: "/dev/null", stdout: "/dev/null", stderr: err), errPath: err)
        defer { kill(nook.pid, SIGTERM); _ = nook.wait() }
        XCTAssertTrue(Harness.eventually(15) { ((try? Loopback.httpGet(port: spare)) ?? "").contains("still served") }, nook.stderrText)
        let forwarder = try XCTUnwrap(helperPID(name))
        // The forwarder's sockets: its two listeners, and two for each connection it carries.
        func sockets() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(forwarder)/fd")) ?? []).filter {
                ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(forwarder)/fd/\($0)")) ?? "").hasPrefix("socket:")
            }.count
        }
        // The first fetch's connection may still be closing.
        XCTAssertTrue(Harness.eventually(10) { sockets() == 2 }, "only the listeners: \(sockets())")
        var idle: [Int32] = []
        defer { idle.forEach { close($0) } }
        for _ in 0..<40 { if let fd = try? Loopback.connected(port: busy, timeout: 2) { idle.append(fd) } }
        XCTAssertEqual(idle.count, 40, "the kernel completes the handshakes: the rest wait in the backlog")
        // The forwarder takes 24 of them (two fds each), and no more.
        XCTAssertTrue(Harness.eventually(10) { sockets() == 2 + 48 }, "sockets: \(sockets())")
        XCTAssertTrue(((try? Loopback.httpGet(port: spare)) ?? "").contains("still served"), "the other port still answers")
        // The spare port's connection ends; the busy port takes no slot it freed.
        XCTAssertTrue(Harness.eventually(10) { sockets() == 2 + 48 }, "sockets: \(sockets())")
        usleep(300_000)
        XCTAssertEqual(sockets(), 2 + 48, "still 24 of the busy port's clients")
    }

    /// A forwarder killed before it is in the container's namespaces fails the
    /// run (exit 125, its reason named) and leaves nothing: no container, no
    /// state, no port.
    func testAForwarderKilledWhileStartingFailsTheRunAndLeavesNothing() throws {
        let name = Harness.name("fwdkill")
        let port = try Loopback.freePort()
        let report = try h.scratch("fault") + "/report"
        let nook = try h.start(["run", "--name", name, "-p", "127.0.0.1:\(port):80", "--rootfs", h.rootfs, "--", "sleep", "60"],
                               env: ["NOOK_FAULT_STOP": "forward.joining", "NOOK_FAULT_REPORT": report])
        var forwarder: Int32?
        XCTAssertTrue(Harness.eventually(15) {
            forwarder = (try? String(contentsOfFile: report, encoding: .utf8))?.split(separator: " ").last
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return forwarder != nil
        }, "the forwarder reached the point: \(nook.stderrText)")
        let containerPID = try XCTUnwrap((state(name)?["pid"] as? Int).map(Int32.init), "the container exists meanwhile")
        XCTAssertEqual(kill(try XCTUnwrap(forwarder), SIGKILL), 0)
        XCTAssertEqual(nook.wait(), 125, nook.stderrText)
        XCTAssertTrue(nook.stderrText.contains("nook __forward (the port forwarder) could not start: exited with status 137"), nook.stderrText)
        XCTAssertTrue(Harness.eventually(10) { !Harness.isAlive(containerPID) }, "the container went with the failed run")
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(name)"), "no state left")
        XCTAssertThrowsError(try Loopback.httpGet(port: port), "no port left")
    }

    /// Through Nook's forwarder a client never takes a cut-short stream for a
    /// whole one: the server's reset reaches it as a reset, and so does the
    /// end of a stream the client was too slow to read before the forwarder
    /// had to go (2 s after the container ended). A stream that ends cleanly
    /// is whole.
    func testAForwardedStreamEndsWholeOrWithAReset() throws {
        // (size in MiB, how the server closes, how long the client waits before reading)
        for (mib, close, delay) in [(4, ":reset", 0), (6, "", 4)] {
            let port = try Loopback.freePort()
            let name = Harness.name("stream")
            let nook = try h.start(["run", "--name", name, "-p", "127.0.0.1:\(port):5000", "--rootfs", h.rootfs, "--",
                                    "/bin/probe", "tcp_serve:5000:\(mib)\(close)"])
            // Connect once the probe listens, as the container's network namespace
            // says: a client before that is reset by the forwarder, and the probe
            // would then wait for ever for its one client.
            XCTAssertTrue(Harness.eventually(15) {
                guard let pid = self.state(name)?["pid"] as? Int,
                      let tcp = try? String(contentsOfFile: "/proc/\(pid)/net/tcp", encoding: .utf8) else { return false }
                return tcp.split(separator: "\n").contains {
                    let fields = $0.split(separator: " ")
                    return fields.count > 3 && fields[1].hasSuffix(":1388") && fields[3] == "0A"
                }
            }, "the probe listens: \(nook.stderrText)")
            let fd = try Loopback.connected(port: port, timeout: 30)
            if delay > 0 { sleep(UInt32(delay)) }
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            var total = 0, n = 0
            repeat { n = read(fd, &buf, buf.count); if n > 0 { total += n } } while n > 0
            let o = (bytes: total, end: n, errno: errno)
            Glibc.close(fd)
            XCTAssertEqual(nook.wait(), 0, nook.stderrText)
            if close == ":reset" {
                XCTAssertTrue(o.end < 0 && o.errno == ECONNRESET, "the server's reset reached the client: \(o)")
            } else {
                XCTAssertTrue((o.end == 0 && o.bytes == mib << 20) || (o.end < 0 && o.errno == ECONNRESET),
                              "whole (\(mib << 20) bytes) or reset, never cut short and clean: \(o)")
            }
        }
    }

    /// A server that answers before it has read everything and closes (the
    /// kernel then resets the connection: "413 and close"): the client still
    /// gets the answer, while it is sending, as over a direct connection.
    func testAnAnswerSentBeforeTheServersResetReachesAClientStillSending() throws {
        let name = Harness.name("early")
        let port = try Loopback.freePort()
        let answer = "HTTP/1.1 413 Payload Too Large"
        let nook = try h.start(["run", "--name", name, "-p", "127.0.0.1:\(port):82", "--rootfs", h.rootfs, "--", "sh", "-c",
                                "while :; do busybox nc -l -p 82 -e sh -c 'head -c 10 >/dev/null; sleep 0.3; echo \(answer)'; done"])
        defer { _ = try? h.run(["rm", "-f", name]) }  // gone already is what we want
        /// What a client that sends `upload` bytes (nil: for as long as the connection lasts) reads back.
        func exchange(upload: Int?) -> String {
            guard let fd = try? Loopback.connected(port: port, timeout: 5) else { return "" }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            let chunk = [UInt8](repeating: 0x75, count: upload.map { min($0, 1 << 16) } ?? 1 << 16)
            var sent = 0, received: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline {
                if upload.map({ sent < $0 }) ?? true {
                    let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n > 0 { sent += n }
                }
                let n = recv(fd, &buf, buf.count, 0)
                if n > 0 { received += buf[0..<n]; continue }
                if n == 0 || errno != EAGAIN { break }
                usleep(1000)
            }
            return String(decoding: received, as: UTF8.self)
        }
        // Ten bytes, all read: a clean close. Once that answers, nc listens.
        XCTAssertTrue(Harness.eventually(20) { exchange(upload: 10).hasPrefix(answer) }, nook.stderrText)
        // Uploading until the reset, five times (nc listens again between them).
        for attempt in 1...5 {
            usleep(500_000)
            let got = exchange(upload: nil)
            XCTAssertTrue(got.hasPrefix(answer), "attempt \(attempt): '\(got)'")
        }
    }

    func testHostNetworkIsTheCallersNamespace() throws {
        let mine = try h.runAsUser(["readlink", "/proc/self/ns/net"]).stdout
        let r = try h.run(["run", "--network", "host", "--rootfs", h.rootfs, "--", "sh", "-c", "readlink /proc/self/ns/net; cat /etc/resolv.conf"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix(mine), "\(r.stdout) vs \(mine)")
        let hostResolv = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        XCTAssertTrue(r.stdout.hasSuffix(hostResolv), "the host's resolv.conf: \(r.stdout)")
    }

    func testResolvConfHostsAndHostnameUnlessTheUserMountsTheirOwn() throws {
        let mode = try helper("slirp4netns")
        let name = Harness.name("files")
        let r = try h.run(["run", "--name", name, "--network", mode, "--rootfs", h.rootfs, "--", "sh", "-c",
                           "cat /etc/resolv.conf; cat /etc/hosts; cat /etc/hostname; ip route"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("nameserver 10.0.2.3\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("10.0.2.100\t\(name)\n") && r.stdout.contains("\n\(name)\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("default via 10.0.2.2 dev tap0"), r.stdout)

        let dir = try h.scratch("hosts")
        try "10.9.9.9 mine\n".write(toFile: dir + "/hosts", atomically: true, encoding: .utf8)
        chmod(dir + "/hosts", 0o644)
        let own = try h.run(["run", "--network", mode, "-v", "\(dir)/hosts:/etc/hosts:ro", "--rootfs", h.rootfs, "--", "cat", "/etc/hosts"])
        XCTAssertEqual(own.stdout, "10.9.9.9 mine\n", own.stderr)
    }

    func testHelperDiesWhenNookIsKilled() throws {
        for mode in ["none", "pasta", "slirp4netns"] {
            guard let mode = try? helper(mode) else { continue }
            let name = Harness.name("kill")
            // With none, a published port is what starts a helper (nook's forwarder).
            let publish = mode == "none" ? ["-p", "127.0.0.1:\(try Loopback.freePort()):80"] : []
            let nook = try h.start(["run", "--name", name, "--network", mode] + publish + ["--rootfs", h.rootfs, "--", "sleep", "60"])
            var pids: (helper: Int32, container: Int32)?
            XCTAssertTrue(Harness.eventually(10) {
                if let s = state(name), let c = s["pid"] as? Int, let hp = s["networkHelperPID"] as? Int { pids = (Int32(hp), Int32(c)) }
                return pids != nil
            }, nook.stderrText)
            let (helperPID, containerPID) = try XCTUnwrap(pids)
            XCTAssertTrue(Harness.isAlive(helperPID))
            XCTAssertEqual(kill(nook.pid, SIGKILL), 0)
            _ = nook.wait()
            XCTAssertTrue(Harness.eventually(10) { !Harness.isAlive(helperPID) }, "\(mode) died with nook")
            XCTAssertTrue(Harness.eventually(10) { !Harness.isAlive(containerPID) }, "the container died with nook")
            XCTAssertEqual(try h.run(["ps", "-a"]).status, 0)   // reconciles
            XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(name)"))
        }
    }

    func testDetachedContainerKeepsItsPublishedPortUntilRemoved() throws {
        let mode = try helper("pasta")
        let name = Harness.name("dweb")
        let port = try Loopback.freePort()
        let www = try site("detached\n")
        let r = try h.run(["run", "-d", "--init", "--name", name, "--network", mode, "-p", "127.0.0.1:\(port):8080",
                           "-v", "\(www):/www:ro", "--rootfs", h.rootfs, "--", "httpd", "-f", "-p", "8080", "-h", "/www"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(Harness.eventually(15) { ((try? Loopback.httpGet(port: port)) ?? "").contains("detached") })
        let helperPID = try XCTUnwrap(helperPID(name))
        let monitor = try XCTUnwrap(state(name)?["monitorPID"] as? Int)
        XCTAssertTrue(Harness.children(of: Int32(monitor)).contains(helperPID), "the monitor started the helper")
        XCTAssertEqual(try h.run(["rm", "-f", name]).status, 0)
        XCTAssertTrue(Harness.eventually(10) { !Harness.isAlive(helperPID) })
    }

    /// `-p 127.0.0.1::8080` lets the kernel pick the host port; `nook port` says
    /// which, and the container is reached there. A range publishes each port.
    func testAPickedHostPortIsReadBackWithNookPort() throws {
        let mode = try helper("pasta")
        let name = Harness.name("picked")
        let www = try site("picked\n")
        let base = try Loopback.freePort()
        let r = try h.run(["run", "-d", "--init", "--name", name, "--network", mode, "-p", "127.0.0.1::8080",
                           "-p", "127.0.0.1:\(base)-\(base + 1):9000-9001/udp",
                           "-v", "\(www):/www:ro", "--rootfs", h.rootfs, "--", "httpd", "-f", "-p", "8080", "-h", "/www"])
        XCTAssertEqual(r.status, 0, r.stderr)
        defer { _ = try? h.run(["rm", "-f", name]) }
        let all = try h.run(["port", name])
        XCTAssertEqual(all.status, 0, all.stderr)
        let lines = all.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, all.stdout)
        XCTAssertTrue(lines.contains("9000/udp -> 127.0.0.1:\(base)") && lines.contains("9001/udp -> 127.0.0.1:\(base + 1)"), all.stdout)
        let one = try h.run(["port", name, "8080"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let address = one.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(lines.contains("8080/tcp -> " + address), all.stdout)
        let port = try XCTUnwrap(UInt16(address.split(separator: ":").last ?? ""), address)
        XCTAssertNotEqual(port, 0)
        XCTAssertTrue(Harness.eventually(15) { ((try? Loopback.httpGet(port: port)) ?? "").contains("picked") },
                      "the container answers on the port nook port names")
        let ps = try h.run(["ps", "--filter", "name=^\(name)$", "--format", "{{.Ports}}"])
        XCTAssertEqual(ps.stdout, "\(address)->8080/tcp, 127.0.0.1:\(base)->9000/udp, 127.0.0.1:\(base + 1)->9001/udp\n")
        let none = try h.run(["port", name, "81"])
        XCTAssertEqual(none.status, 125)
        XCTAssertTrue(none.stderr.contains("publishes no port 81/tcp"), none.stderr)
    }

    func testBadNetworkInputIsRefusedAndLeavesNothing() throws {
        let mode = try helper("pasta")
        let busy = try Loopback.PongServer()
        let cases: [([String], String, [String: String])] = [
            (["--network", mode, "-p", "127.0.0.1:\(busy.port):80"], "already in use", [:]),
            (["--network", mode, "-p", "8000-8001:80"], "the host range has 2 ports, the container range 1", [:]),
            (["--network", mode, "-p", "8080:80/sctp"], "protocol must be tcp or udp", [:]),
            (["-p", "127.0.0.1:\(busy.port):80"], "already in use", [:]),
            (["-p", "8080:80/udp"], "nook's port forwarder publishes TCP ports only", [:]),
            (["-p", "8080:80"], "publishes on the host's loopback only (the server inside sees every client as 127.0.0.1)", [:]),
            (["-p", "0.0.0.0:8080:80"], "publishes on the host's loopback only", [:]),
            (["-p", "18000-18010:8000-8010"], "publishes at most 10 ports (11 given)", [:]),
            (["--network", "host", "-p", "8080:80"], "-p needs a network namespace", [:]),
            (["--network", "wifi"], "invalid --network 'wifi'", [:]),
            (["--network", "slirp4netns:mtu=9"], "invalid --network option 'mtu=9'", [:]),
            (["--network", "pasta:--no-such-option"], "unrecognized option", [:]),
            (["--network", mode], "'pasta' is not installed", ["PATH": try pathWithoutHelpers()]),
        ]
        for (flags, message, env) in cases {
            let name = Harness.name("bad")
            let r = try h.run(["run", "--name", name] + flags + ["--rootfs", h.rootfs, "--", "true"], env: env)
            XCTAssertEqual(r.status, 125, "\(flags): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(flags): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: h.stateDir() + "/\(name)"), "\(flags) left state")
        }
        XCTAssertEqual(busy.connections, 0)
    }

    /// A PATH with newuidmap and newgidmap but no network helper.
    func pathWithoutHelpers() throws -> String {
        let dir = try h.scratch("path")
        for tool in ["newuidmap", "newgidmap"] { try FileManager.default.createSymbolicLink(atPath: "\(dir)/\(tool)", withDestinationPath: "/usr/bin/\(tool)") }
        return dir
    }
}

/// Small loopback clients and servers for the tests (127.0.0.1 only).
enum Loopback {
    static func address(_ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    static func withSockaddr<T>(_ a: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var a = a
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    static func fail(_ what: String) -> NSError {
        NSError(domain: "loopback", code: Int(errno), userInfo: [NSLocalizedDescriptionKey: "\(what): \(String(cString: strerror(errno)))"])
    }

    /// A port nothing listens on right now.
    static func freePort(udp: Bool = false) throws -> UInt16 {
        let fd = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        guard withSockaddr(address(0), { bind(fd, $0, $1) }) == 0 else { throw fail("bind") }
        return boundPort(fd)
    }

    /// The port a socket is bound to.
    static func boundPort(_ fd: Int32) -> UInt16 {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: a.sin_port)
    }

    /// A TCP connection to 127.0.0.1:port whose reads time out after `timeout` seconds.
    static func connected(port: UInt16, timeout: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard withSockaddr(address(port), { connect(fd, $0, $1) }) == 0 else {
            let error = fail("connect")
            close(fd)
            throw error
        }
        return fd
    }

    /// GET / on 127.0.0.1:port; the whole response.
    static func httpGet(port: UInt16) throws -> String {
        let fd = try connected(port: port, timeout: 3)
        defer { close(fd) }
        let request = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"
        guard write(fd, request, request.utf8.count) == request.utf8.count else { throw fail("write") }
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            data += buf[0..<n]
        }
        guard !data.isEmpty else { throw fail("empty reply") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Bytes read from 127.0.0.1:port until EOF.
    static func download(port: UInt16) throws -> Int {
        let fd = try connected(port: port, timeout: 10)
        defer { close(fd) }
        var total = 0
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 { throw fail("read") }
            if n == 0 { return total }
            total += n
        }
    }

    /// The host's IPv4 default gateway (pasta copies it into the container).
    static func defaultGateway() -> String? {
        guard let table = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return nil }
        for line in table.split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count > 2, f[1] == "00000000", let gw = UInt32(f[2], radix: 16) else { continue }
            return withUnsafeBytes(of: gw.littleEndian) { $0.map(String.init).joined(separator: ".") }
        }
        return nil
    }

    final class UDPClient {
        let fd: Int32
        init() throws {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw Loopback.fail("socket") }
        }
        deinit { close(fd) }

        /// Sends `text` to 127.0.0.1:port and waits briefly for an answer.
        func exchange(_ text: String, port: UInt16) -> String? {
            _ = Loopback.withSockaddr(Loopback.address(port)) { sendto(fd, text, text.utf8.count, 0, $0, $1) }
            return receive(timeout: 0.2)
        }

        func receive(timeout: Double) -> String? {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(timeout * 1000)) == 1 else { return nil }
            var buf = [UInt8](repeating: 0, count: 512)
            let n = recv(fd, &buf, buf.count, 0)
            return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
        }
    }

    /// Listens on 127.0.0.1 and answers every connection with "pong"; counts them.
    /// Closed (and its thread ended) when released.
    final class PongServer {
        final class Counter: @unchecked Sendable {
            private let lock = NSLock()
            private var n = 0
            func add() { lock.lock(); n += 1; lock.unlock() }
            var value: Int { lock.lock(); defer { lock.unlock() }; return n }
        }
        let fd: Int32
        let port: UInt16
        private let counter = Counter()

        init() throws {
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard Loopback.withSockaddr(Loopback.address(0), { bind(listener, $0, $1) }) == 0, listen(listener, 16) == 0 else {
                close(listener)
                throw Loopback.fail("listen")
            }
            fd = listener
            port = Loopback.boundPort(listener)
            let counter = counter
            Thread {
                while true {
                    let c = accept(listener, nil, nil)
                    if c < 0 { if errno == EINTR { continue } else { return } }
                    var buf = [UInt8](repeating: 0, count: 64)
                    _ = read(c, &buf, buf.count)
                    _ = write(c, "pong\n", 5)
                    close(c)
                    counter.add()
                }
            }.start()
        }

        var connections: Int { counter.value }

        deinit { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }
}
