import Foundation
import NookKit

/// busybox httpd serving `page` as /index.html on container port 80,
/// published on a random port of 127.0.0.1. `start()` returns once the
/// server answers: a GET /index.html from the host gets 200.
/// The page goes to /dev/shm, a tmpfs of the container's own: the rootfs
/// directory is shared by every container that runs in it.
func webServer(serving page: String) throws -> ContainerRequest {
    var request = ContainerRequest(
        rootfs: try BusyboxRootfs.path,
        command: ["sh", "-c", "mkdir /dev/shm/www && echo \"$PAGE\" > /dev/shm/www/index.html && exec httpd -f -p 80 -h /dev/shm/www"])
    request.environment = ["PAGE=\(page)"]
    request.ports = [80]
    request.readiness = [.http(port: 80, path: "/index.html")]
    return request
}

/// GET http://127.0.0.1:PORT/PATH from the host: the status and the body.
/// HTTP/1.0 over a plain socket (the server closes the connection after its
/// answer): Foundation's URLSession on Linux can crash when many tasks use it
/// at once (swift-corelibs-foundation issue 3292), and twenty servers do.
func get(port: UInt16, path: String = "/index.html") async throws -> (status: Int, body: String) {
    let socket = try LoopbackSocket(port: port)
    try socket.send(Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8))
    var answer: [UInt8] = []
    while true {
        let bytes = try socket.receive()
        if bytes.isEmpty { break }
        answer += bytes
        guard answer.count <= 1 << 20 else { throw LoopbackSocket.Failed(description: "an answer of over 1 MiB") }
    }
    let blank: [UInt8] = [13, 10, 13, 10]  // the end of the headers
    guard let end = answer.indices.first(where: { answer[$0...].starts(with: blank) }) else {
        throw LoopbackSocket.Failed(description: "not an HTTP answer: \(String(decoding: answer.prefix(80), as: UTF8.self))")
    }
    let statusLine = String(decoding: answer[..<end], as: UTF8.self).split(separator: "\r\n").first ?? ""
    let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return (status, String(decoding: answer[(end + blank.count)...], as: UTF8.self))
}
