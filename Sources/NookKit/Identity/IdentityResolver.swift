import Glibc

/// Chooses the id mapping for a container (see IDMapping).
public struct IdentityResolver {
    public var uid: uid_t
    public var gid: gid_t
    public var environment: [String: String]

    public init(environment: [String: String], uid: uid_t = getuid(), gid: gid_t = getgid()) {
        self.environment = environment
        self.uid = uid
        self.gid = gid
    }

    public func resolve(spec: Spec) -> IDMapping {
        if let uids = spec.linux?.uidMappings, let gids = spec.linux?.gidMappings, !uids.isEmpty, !gids.isEmpty {
            let onlySelf = uids.count == 1 && uids[0].hostID == uid && uids[0].size == 1
                && gids.count == 1 && gids[0].hostID == gid && gids[0].size == 1
            return IDMapping(uidMappings: uids, gidMappings: gids, setgroupsAllowed: !onlySelf,
                             writer: onlySelf ? .direct : .helpers,
                             reason: "the mappings given in config.json")
        }
        return .single(uid: uid, gid: gid)
    }
}
