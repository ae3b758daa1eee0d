import Foundation
import XCTest

/// A real OCI registry for a test: Debian's docker-registry on 127.0.0.1, on a
/// port the kernel chose free, its storage in a temp dir; fed with skopeo from
/// layouts Tests/images/oci-layout.py builds. Stopped by its PID, its dir removed.
final class TestRegistry {
    let dir: String
    let port: Int
    private var process: Harness.Background?
    private var fronts: [Front] = []

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") && Harness.isInstalled("skopeo") }

    init() throws {
        dir = NSTemporaryDirectory() + "nook-registry-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try FileManager.default.createDirectory(atPath: dir + "/storage", withIntermediateDirectories: true)
        port = try TestRegistry.freePort()
        let config = """
        version: 0.1
        log:
          level: error
        storage:
          filesystem:
            rootdirectory: \(dir)/storage
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:\(port)
        """
        try config.write(toFile: dir + "/config.yml", atomically: true, encoding: .utf8)
        let pid = try Harness.spawn(["/usr/bin/docker-registry", "serve", dir + "/config.yml"],
                                    stdin: "/dev/null", stdout: "/dev/null", stderr: dir + "/registry.log")
        process = Harness.Background(pid: pid, errPath: dir + "/registry.err")
        guard Harness.eventually(20, { TestRegistry.answers(port: port) }) else {
            throw NSError(domain: "registry", code: 1, userInfo: [NSLocalizedDescriptionKey: "docker-registry did not start: " +
                ((try? String(contentsOfFile: dir + "/registry.log", encoding: .utf8)) ?? "")])
        }
    }

    deinit { stop() }

    func stop() {
        fronts.forEach { $0.stop() }
        fronts = []
        process = nil  // Background's deinit kills it by PID and reaps it
        try? FileManager.default.removeItem(atPath: dir)
    }

    var host: String { "127.0.0.1:\(port)" }

    /// Pushes `oci:LAYOUT:TAG` to NAME:TAG here (`all`: every image of an index).
    func push(layout: String, tag: String, as name: String, all: Bool = false) throws {
        let r = try Harness.shell(["/usr/bin/skopeo", "copy", "--quiet", "--dest-tls-verify=false"] + (all ? ["--all"] : [])
                                  + ["oci:\(layout):\(tag)", "docker://\(host)/\(name):\(tag)"], timeout: 120)
        guard r.status == 0 else { throw NSError(domain: "registry", code: 2, userInfo: [NSLocalizedDescriptionKey: "skopeo: " + r.stderr]) }
    }

    /// Where the registry keeps a blob's bytes (a test corrupts it there).
    func blobData(_ digest: String) -> String {
        let hex = String(digest.dropFirst("sha256:".count))
        return "\(dir)/storage/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }

    /// Starts Tests/images/registry-front.py before this registry with `options`.
    func front(_ options: [String]) throws -> Front {
        let front = try Front(upstream: "http://\(host)", options: options, dir: dir)
        fronts.append(front)
        return front
    }

    final class Front {
        let port: Int
        let log: String
        private var process: Harness.Background?

        init(upstream: String, options: [String], dir: String) throws {
            let id = Int.random(in: 0..<1_000_000)
            log = "\(dir)/front-\(id).log"
            let portFile = "\(dir)/front-\(id).port"
            FileManager.default.createFile(atPath: log, contents: nil)
            let script = Harness.repoRoot() + "/Tests/images/registry-front.py"
            let pid = try Harness.spawn(["/usr/bin/python3", script, "--upstream", upstream, "--port-file", portFile, "--log", log] + options,
                                        stdin: "/dev/null", stdout: "/dev/null", stderr: "\(dir)/front-\(id).err")
            process = Harness.Background(pid: pid, errPath: "\(dir)/front-\(id).err")
            guard Harness.eventually(20, { FileManager.default.fileExists(atPath: portFile) }),
                  let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
                throw NSError(domain: "registry", code: 3, userInfo: [NSLocalizedDescriptionKey: "registry-front.py did not start: "
                    + ((try? String(contentsOfFile: "\(dir)/front-\(id).err", encoding: .utf8)) ?? "")])
            }
            self.port = port
        }

        var host: String { "127.0.0.1:\(port)" }

        /// The requests it saw, one dictionary each (path, range, authorization).
        var requests: [[String: Any]] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        func stop() { process = nil }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno)) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func answers(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
