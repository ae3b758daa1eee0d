import FoundationEssentials
import Glibc
import NookCore
import NookKernel
import NookSpec

/// Which image a container layer (`containers/<id>-<random>/`) was made
/// from, and for which container of which state root: `user.json` in it.
/// An image some layer names is in use (rmi refuses it, prune keeps it)
/// until the layer goes, which is when its container is removed, or when a
/// sweep finds its owner gone (the layer's lock free) and the container no
/// longer in its state root (`OrphanLayers`).
package struct ContainerLayerUser: Codable, Sendable, Equatable {
    package static let fileName = RootOverlay.layerUserFile

    /// The image's manifest digest.
    package var image: Digest
    package var container: String
    /// The container's state root (`--root`, else $XDG_RUNTIME_DIR/nook or
    /// /tmp/nook-UID); nil in a layer an older nook made, which no sweep removes.
    package var stateRoot: String?
    /// Where the layer was made, for the sweep (`OrphanLayers`): the store is
    /// shared by every mount namespace the user works in (and, over NFS, by
    /// every host), the state root is not, and its path may name another
    /// directory elsewhere (a PrivateTmp's /tmp). The state root's device
    /// and inode when the layer was made (nil if it could not be told),
    /// whether it was on a tmpfs or ramfs (gone at a reboot), the boot
    /// (/proc/sys/kernel/random/boot_id) and the machine (/etc/machine-id,
    /// "" if none). All nil in a layer an older nook made: never swept.
    package var stateRootDevice: UInt64?
    package var stateRootInode: UInt64?
    package var stateRootInMemory: Bool?
    package var bootID: String?
    package var machineID: String?

    package init(image: Digest, container: String, stateRoot: String?) {
        self.image = image
        self.container = container
        self.stateRoot = stateRoot
    }

    /// The record of a layer made now, on this machine in this boot, for a
    /// container of `stateRoot` (which exists: the runtime made it).
    package static func made(image: Digest, container: String, stateRoot: String) -> ContainerLayerUser {
        var user = ContainerLayerUser(image: image, container: container, stateRoot: stateRoot)
        let identity = DirectoryIdentity(path: stateRoot)
        user.stateRootDevice = identity?.device
        user.stateRootInode = identity?.inode
        user.stateRootInMemory = DirectoryIdentity.isOnMemoryFileSystem(stateRoot)
        user.bootID = HostIdentity.bootID()
        user.machineID = HostIdentity.machineID()
        return user
    }

    /// The record in `directory` (a container layer); nil when it has none
    /// that can be read (one being made, or a broken one).
    package static func read(in directory: String) -> ContainerLayerUser? {
        let path = directory + "/" + fileName
        // unreadable or not JSON: a layer being made, or a broken one, which uses nothing
        guard let bytes = try? HostPath.readBytes(path, as: .own, noFollow: true) else { return nil }
        return try? SpecDecoder.decodeJSON(ContainerLayerUser.self, from: bytes, what: path)  // either: no record
    }

    func write(in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try HostPath.writeText(directory + "/" + Self.fileName, String(decoding: try encoder.encode(self), as: UTF8.self) + "\n",
                               create: true, mode: 0o600)
    }
}

extension ImageStore {
    /// Every container layer's user record, by the image it uses. A layer
    /// without a readable record (one being made, or a broken one) uses nothing.
    /// The container layers (directory, record) of `image`.
    package func containerLayers(of image: Digest) -> [(directory: String, user: ContainerLayerUser)] {
        HostPath.subdirectories(containersDirectory).compactMap { name in
            let directory = containersDirectory + "/" + name
            guard let user = ContainerLayerUser.read(in: directory), user.image == image else { return nil }
            return (directory, user)
        }
    }

    package func containerLayerUsers() -> [Digest: [String]] {
        var users: [Digest: [String]] = [:]
        for name in HostPath.subdirectories(containersDirectory) {
            guard let user = ContainerLayerUser.read(in: containersDirectory + "/" + name) else { continue }
            users[user.image, default: []].append(user.container)
        }
        return users.mapValues { $0.sorted() }
    }
}
