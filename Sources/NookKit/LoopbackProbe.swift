import Glibc

/// Connections to 127.0.0.1 for readiness checks: plain sockets, short
/// timeouts, no HTTP library (a GET and the status line are all it takes).
enum LoopbackProbe {
    /// How long an answer may take before this try counts as "not yet".
    static let answerMilliseconds: Int32 = 1000

    static func connect(port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { close(fd); return nil }
        return fd
    }

    /// Connected, and not dropped within a moment: the helper forwarded it to
    /// something that listens (a helper with nothing behind it closes at once).
    static func acceptsAndKeeps(port: UInt16) -> Bool {
        guard let fd = connect(port: port) else { return false }
        defer { close(fd) }
        var p = pollfd(fd: fd, events: Int16(POLLIN) | 0x2000 /* POLLRDHUP */, revents: 0)
        let r = poll(&p, 1, 50)
        return r == 0 // readable or hung up this soon: dropped (a server that speaks first is not waited for here)
    }

    /// The status code of `GET path` (nil: no answer, or not HTTP).
    static func httpStatus(port: UInt16, path: String) -> Int? {
        guard let fd = connect(port: port) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(answerMilliseconds / 1000), tv_usec: Int(answerMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        // The status line only: "HTTP/1.x NNN ..."
        while !head.contains(10) && head.count < 1024 {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            head += buffer[0..<n]
        }
        let line = String(decoding: head.prefix { $0 != 10 }, as: UTF8.self)
        let fields = line.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/") else { return nil }
        return Int(fields[1])
    }
}
