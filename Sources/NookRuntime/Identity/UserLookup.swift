import Glibc
import NookCore
import NookKernel
import NookSpec

/// `--user NAME[:GROUP]` resolved against the rootfs's own /etc/passwd and
/// /etc/group (never the host's), read with RESOLVE_IN_ROOT so a symlinked
/// /etc/passwd in an image cannot point outside it.
package struct UserLookup {
    package struct Resolved: Sendable, Equatable {
        package var uid: UInt32
        package var gid: UInt32
        package var additionalGids: [UInt32]
        package var home: String
    }

    package var rootfs: String

    package init(rootfs: String) { self.rootfs = rootfs }

    /// The file's text; empty when the image has none.
    func read(_ path: String) throws -> String {
        try HostPath.readBytes(inRoot: rootfs, path, as: .userDatabase).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Entries of a colon-separated database.
    func entries(_ path: String) throws -> [[Substring]] {
        try read(path).split(whereSeparator: \.isNewline).map { $0.split(separator: ":", omittingEmptySubsequences: false) }
    }

    package func resolve(_ spec: String) throws -> Resolved {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0]
        guard !userPart.isEmpty else { throw NookError("invalid --user '\(spec)': empty user", kind: .invalidInput) }
        let passwd = try entries("/etc/passwd")
        var uid: UInt32
        var gid: UInt32?
        var name: String?
        var home = "/"
        if let n = UInt32(userPart) {
            uid = n
            if let e = passwd.first(where: { $0.count >= 7 && UInt32($0[2]) == n }) {
                name = String(e[0]); gid = UInt32(e[3]); home = String(e[5])
            }
        } else {
            guard let e = passwd.first(where: { $0.count >= 7 && $0[0] == userPart }), let u = UInt32(e[2]) else {
                throw NookError("user '\(userPart)' not found in the container's /etc/passwd",
                                hint: "use a numeric uid, or add the user to \(rootfs)/etc/passwd", kind: .notFound(.user, name: userPart))
            }
            uid = u; name = userPart; gid = UInt32(e[3]); home = String(e[5])
        }
        let groups = try entries("/etc/group")
        if parts.count == 2 {
            let g = parts[1]
            if let n = UInt32(g) { gid = n } else {
                guard let e = groups.first(where: { $0.count >= 3 && $0[0] == g }), let n = UInt32(e[2]) else {
                    throw NookError("group '\(g)' not found in the container's /etc/group", kind: .notFound(.group, name: g))
                }
                gid = n
            }
        }
        // Like initgroups(3): the primary group, then every group listing the user.
        var extra: [UInt32] = [gid ?? 0]
        if let name {
            for e in groups where e.count >= 4 {
                let members = e[3].split(separator: ",")
                if members.contains(where: { $0 == name }), let n = UInt32(e[2]), n != gid { extra.append(n) }
            }
        }
        return Resolved(uid: uid, gid: gid ?? 0, additionalGids: extra, home: home.isEmpty ? "/" : home)
    }
}
