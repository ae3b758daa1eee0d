import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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
func get(port: UInt16, path: String = "/index.html") async throws -> (status: Int, body: String) {
    let url = URL(string: "http://127.0.0.1:\(port)\(path)")!
    let (data, response) = try await URLSession.shared.data(from: url)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}
