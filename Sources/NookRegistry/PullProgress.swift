import Glibc
import NookImages

/// One status line on stderr while layers download, rewritten in place
/// ("layers 2/5, 31.4 of 80.2 MB"); nothing at all when stderr is not a
/// terminal, so scripts and logs see only the result.
actor PullProgress {
    let enabled: Bool
    let total: Int64
    let count: Int
    var received: [Digest: Int64] = [:]
    var finished: Set<Digest> = []
    var lastDraw: Int64 = 0

    init(enabled: Bool, layers: [Descriptor]) {
        self.enabled = enabled
        let unique = Dictionary(layers.map { ($0.digest, $0.size) }, uniquingKeysWith: { a, _ in a })
        total = unique.values.reduce(0, +)
        count = unique.count
    }

    func started(_ digest: Digest, at offset: Int64) { received[digest] = offset; draw(force: true) }
    func advanced(_ digest: Digest, by bytes: Int64) { received[digest, default: 0] += bytes; draw(force: false) }
    func done(_ digest: Digest, bytes: Int64) { received[digest] = bytes; finished.insert(digest); draw(force: true) }

    func finish() {
        guard enabled else { return }
        draw(force: true)
        write("\n")
    }

    private func draw(force: Bool) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let ms = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        guard force || ms - lastDraw >= 100 else { return }
        lastDraw = ms
        let got = received.values.reduce(0, +)
        write("\r\u{1b}[Klayers \(finished.count)/\(count), \(Self.megabytes(got)) of \(Self.megabytes(total)) MB")
    }

    static func megabytes(_ bytes: Int64) -> String {
        let tenths = bytes * 10 / 1_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }

    private func write(_ text: String) {
        _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}
