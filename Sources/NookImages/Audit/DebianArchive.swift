import Glibc
import NookCore
import NookKernel

/// What the host's Debian archive knows: the newest version of each package
/// in apt's package lists (`/var/lib/apt/lists/*_Packages`, plain or .lz4),
/// for one release and architecture. `nook audit IMAGE` compares an image's
/// packages with it: a package the archive has in a newer version is one the
/// image has not been rebuilt with.
package struct DebianArchive: Sendable {
    package static let defaultLists = "/var/lib/apt/lists"
    /// A compressed list is ~20 MiB, its text ~100 MiB (bookworm main, amd64).
    static let listFile = FileKind(name: "an apt package list", limit: 256 << 20)
    static let listText = FileKind(name: "an apt package list's text", limit: 512 << 20)

    /// The newest version of each wanted package.
    package var newest: [String: DpkgVersion] = [:]
    /// The list files read, and those skipped with the reason.
    package var read: [String] = []
    package var skipped: [String] = []
    /// The suites of the lists found (bookworm, bookworm-security...), for the report.
    package var suites: Set<String> = []

    /// Reads the lists in `directory` whose suite is `codename` or one of its
    /// -updates/-security suites and whose architecture is `architecture` or
    /// all, keeping only the versions of `wanted` packages.
    package static func read(directory: String, codename: String, architecture: String, wanted: Set<String>) throws -> DebianArchive {
        var archive = DebianArchive()
        for name in HostPath.regularFiles(directory) {
            guard let list = ListName(name) else { continue }
            archive.suites.insert(list.suite)
            guard list.codename == codename, list.architecture == architecture || list.architecture == "all" else { continue }
            let path = directory + "/" + name
            let bytes: [UInt8]
            switch list.compression {
            case "": bytes = try HostPath.readBytes(path, as: listFile, noFollow: true)
            case "lz4": bytes = try LayerStream.decompressFile(path, filter: .lz4, as: listText,
                                                              hint: "is the file complete? apt update fetches it again")
            default:
                archive.skipped.append("\(path): compressed with \(list.compression), which nook does not read")
                continue
            }
            archive.scan(bytes, wanted: wanted)
            archive.read.append(path)
        }
        return archive
    }

    /// `deb.debian.org_debian_dists_bookworm-security_main_binary-amd64_Packages.lz4`, taken apart.
    struct ListName {
        var suite: String, codename: String, architecture: String, compression: String

        init?(_ name: String) {
            var base = Substring(name), compression = ""
            if let dot = name.lastIndex(of: "."), name[..<dot].hasSuffix("_Packages") {
                compression = String(name[name.index(after: dot)...])
                base = name[..<dot]
            }
            guard base.hasSuffix("_Packages") else { return nil }
            let parts = base.split(separator: "_")
            guard let dists = parts.lastIndex(of: "dists"), dists + 1 < parts.count,
                  let binary = parts.last(where: { $0.hasPrefix("binary-") }) else { return nil }
            suite = String(parts[dists + 1])
            codename = String(suite.split(separator: "-").first ?? "")
            architecture = String(binary.dropFirst("binary-".count))
            self.compression = compression
        }
    }

    /// Keeps the newest Version of each wanted Package in a Packages file's text.
    mutating func scan(_ text: [UInt8], wanted: Set<String>) {
        let packageField = Array("Package: ".utf8), versionField = Array("Version: ".utf8)
        text.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            var current: String?
            while start < buffer.count {
                let rest = buffer.count - start
                let newline = memchr(base + start, 0x0a, rest).map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base } ?? buffer.count
                let line = UnsafeBufferPointer(rebasing: buffer[start..<newline])
                if line.isEmpty {
                    current = nil
                } else if line.starts(with: packageField) {
                    let name = String(decoding: line.dropFirst(packageField.count), as: UTF8.self)
                    current = wanted.contains(name) ? name : nil
                } else if let name = current, line.starts(with: versionField),
                          let version = DpkgVersion(String(decoding: line.dropFirst(versionField.count), as: UTF8.self)) {
                    if newest[name].map({ $0 < version }) ?? true { newest[name] = version }
                }
                start = newline + 1
            }
        }
    }
}
