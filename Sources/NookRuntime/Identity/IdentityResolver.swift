import Glibc
import NookCore
import NookKernel
import NookSpec

/// How the user asked ids to be mapped (`--userns`).
package enum UserNamespaceMode: String, Sendable, Equatable {
    /// podman's default: container root is the caller (plus a sub-id range if there is one).
    case auto
    /// `keep-id`: the caller's uid and gid keep their numbers inside.
    case keepID = "keep-id"
    /// `host`: no user namespace at all (only meaningful for real root).
    case host

    package static func parse(_ text: String) throws -> UserNamespaceMode {
        guard let mode = UserNamespaceMode(rawValue: text) else {
            throw NookError("invalid --userns '\(text)'", hint: "modes are auto, keep-id and host", kind: .invalidInput)
        }
        return mode
    }
}

/// Chooses the id mapping for a container, in this order:
///  1. mappings given in config.json (OCI bundles) are used as given;
///  2. real root on the host: an unprivileged range (root's /etc/subuid entry,
///     or 100000:65536), never 0 -> 0: root on the host must not mean root inside;
///  3. a sub-id range for the caller plus setuid newuidmap/newgidmap:
///     0 -> the caller, 1..N -> the range, so images with several users work;
///  4. otherwise the single mapping 0 -> the caller, which needs no setup.
package struct IdentityResolver {
    package var uid: uid_t
    package var gid: gid_t
    package var userName: String
    package var subuidFile = "/etc/subuid"
    package var subgidFile = "/etc/subgid"
    package var helpersAvailable: Bool
    /// Nook runs in the host's own user namespace (uid_map "0 0 4294967295"),
    /// not inside one that rootless podman or rootlesskit made.
    package var inInitialUserNamespace: Bool = IdentityResolver.readInitialUserNamespace()

    /// The range used for real root when /etc/subuid has no entry for root.
    package static let rootDefaultRange = SubordinateRange(start: 100000, count: 65536)

    package init(uid: uid_t = getuid(), gid: gid_t = getgid()) {
        self.uid = uid
        self.gid = gid
        userName = HostUserName.of(uid: uid) ?? "\(uid)"
        helpersAvailable = IDMapHelpers.find("newuidmap") != nil && IDMapHelpers.find("newgidmap") != nil
    }

    static func readInitialUserNamespace() -> Bool {
        // No readable uid_map: taken as not the initial namespace (the cautious answer).
        let map = (try? HostPath.readText("/proc/self/uid_map")) ?? ""
        return map.split(separator: "\n").map { $0.split(separator: " ") } == [["0", "0", "4294967295"]]
    }

    package func resolve(spec: Spec, mode: UserNamespaceMode = .auto) throws -> IDMapping {
        // A config.json without a user namespace: only root can do without one,
        // e.g. nook as uid 0 inside rootless podman's own user namespace.
        if let namespaces = spec.linux?.namespaces, !namespaces.contains(where: { $0.type == "user" }) {
            guard uid == 0 else {
                throw NookError("linux.namespaces has no user namespace",
                                hint: "a rootless container needs one; add {\"type\": \"user\"}", kind: .invalidInput)
            }
            // runc would run it as the host's root: Nook never makes host root the container's root.
            guard !inInitialUserNamespace else {
                throw NookError("linux.namespaces has no user namespace, and nook runs as the host's root: the container's root would be the host's root",
                                hint: "run the caller rootless (podman as a user, containerd under rootlesskit: see Docs/containerd.md), or add {\"type\": \"user\"} with uidMappings and gidMappings", kind: .invalidInput)
            }
            return IDMapping(uidMappings: [.init(containerID: 0, hostID: 0, size: UInt32.max)],
                             gidMappings: [.init(containerID: 0, hostID: 0, size: UInt32.max)],
                             setgroupsAllowed: true, writer: .none,
                             reason: "config.json has no user namespace: ids are those of the namespace nook runs in")
        }
        // Half a mapping given would otherwise be replaced by Nook's own in silence.
        let givenUIDs = !(spec.linux?.uidMappings ?? []).isEmpty, givenGIDs = !(spec.linux?.gidMappings ?? []).isEmpty
        if givenUIDs != givenGIDs {
            let (set, unset) = givenGIDs ? ("gidMappings", "uidMappings") : ("uidMappings", "gidMappings")
            throw NookError("linux.\(set) is given without linux.\(unset)",
                            hint: "give both, or neither for Nook's default mapping")
        }
        if let uids = spec.linux?.uidMappings, let gids = spec.linux?.gidMappings, !uids.isEmpty, !gids.isEmpty {
            let onlySelf = uids.count == 1 && uids[0].hostID == uid && uids[0].size == 1
                && gids.count == 1 && gids[0].hostID == gid && gids[0].size == 1
            return IDMapping(uidMappings: uids, gidMappings: gids, setgroupsAllowed: !onlySelf,
                             writer: onlySelf || uid == 0 ? .direct : .helpers,
                             reason: "the mappings given in config.json")
        }
        let subuid = SubordinateRange.read(file: subuidFile, user: userName, id: uid)
        let subgid = SubordinateRange.read(file: subgidFile, user: userName, id: gid)

        if uid == 0 {
            // Real root writes any map itself (it has CAP_SETUID in the parent namespace).
            let r = subuid ?? Self.rootDefaultRange
            let g = subgid ?? Self.rootDefaultRange
            let source = subuid == nil ? "the default range \(r.start):\(r.count)" : "root's /etc/subuid range"
            if mode == .host {
                return IDMapping(uidMappings: [.init(containerID: 0, hostID: 0, size: UInt32.max)],
                                 gidMappings: [.init(containerID: 0, hostID: 0, size: UInt32.max)],
                                 setgroupsAllowed: true, writer: .none,
                                 reason: "--userns host: no user namespace, container root IS host root")
            }
            if mode == .keepID {
                throw NookError("--userns keep-id makes no sense for root", hint: "use --userns host to run as host root (not recommended)", kind: .invalidInput)
            }
            return IDMapping(uidMappings: [.init(containerID: 0, hostID: r.start, size: r.count)],
                             gidMappings: [.init(containerID: 0, hostID: g.start, size: g.count)],
                             setgroupsAllowed: true, writer: .direct,
                             reason: "nook runs as host root: container 0 -> host \(r.start) (\(source)), so container root is not host root")
        }

        let ranges: (SubordinateRange, SubordinateRange)? = {
            guard let subuid, let subgid, helpersAvailable else { return nil }
            return (subuid, subgid)
        }()
        let why: String
        if subuid == nil || subgid == nil {
            why = "no /etc/subuid and /etc/subgid range for \(userName)"
        } else if !helpersAvailable {
            why = "newuidmap/newgidmap are not installed setuid (Debian package uidmap)"
        } else {
            why = ""
        }

        switch mode {
        case .host:
            throw NookError("--userns host needs real root", hint: "an unprivileged user can only run containers in a user namespace", kind: .invalidInput)
        case .keepID:
            guard let (r, g) = ranges else {
                var m = IDMapping(uidMappings: [.init(containerID: uid, hostID: uid, size: 1)],
                                  gidMappings: [.init(containerID: gid, hostID: gid, size: 1)],
                                  setgroupsAllowed: false, writer: .direct,
                                  reason: "keep-id: container \(uid) -> host \(uid), a single id (\(why))")
                m.keepID = true
                return m
            }
            var m = IDMapping(uidMappings: Self.keepIDMaps(id: uid, range: r), gidMappings: Self.keepIDMaps(id: gid, range: g),
                              setgroupsAllowed: true, writer: .helpers,
                              reason: "keep-id: container \(uid) -> host \(uid), other ids -> \(userName)'s sub-id range \(r.start):\(r.count)")
            m.keepID = true
            return m
        case .auto:
            guard let (r, g) = ranges else {
                var m = IDMapping.single(uid: uid, gid: gid)
                m.reason += " (\(why))"
                return m
            }
            return IDMapping(uidMappings: [.init(containerID: 0, hostID: uid, size: 1), .init(containerID: 1, hostID: r.start, size: r.count)],
                             gidMappings: [.init(containerID: 0, hostID: gid, size: 1), .init(containerID: 1, hostID: g.start, size: g.count)],
                             setgroupsAllowed: true, writer: .helpers,
                             reason: "container 0 -> host \(uid), 1..\(r.count) -> \(userName)'s sub-id range \(r.start):\(r.count) (/etc/subuid, /etc/subgid)")
        }
    }

    /// Container ids 0..<id come from the range, id is the caller, the rest of the range follows.
    static func keepIDMaps(id: UInt32, range: SubordinateRange) -> [Spec.IDMap] {
        var maps: [Spec.IDMap] = []
        let below = min(id, range.count)
        if below > 0 { maps.append(.init(containerID: 0, hostID: range.start, size: below)) }
        maps.append(.init(containerID: id, hostID: id, size: 1))
        if range.count > below { maps.append(.init(containerID: id + 1, hostID: range.start + below, size: range.count - below)) }
        return maps
    }
}
