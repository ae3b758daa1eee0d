import Glibc
import NookCore
import NookImages
import NookKernel
import NookRuntime

/// Container layers nobody owns any more: a `nook run IMAGE` that was
/// SIGKILLed, or whose state directory went (/tmp/nook-UID at a reboot),
/// leaves its layer under containers/, and its record (`ContainerLayerUser`)
/// would keep its image from rmi and prune for good. A layer is an orphan
/// when its lock (`ContainerLayer.lock`, held by the foreground run or the
/// container's monitor for the container's whole life) is free and its
/// container is no longer in the state root the record names, that very
/// directory (`isOrphan`). Orphans are removed as a container's layer is
/// (`OwnedLayer.remove`: inside the user namespace for sub-ids' files).
///
/// Swept by rmi, image prune, and run or create of an image; never by the
/// runtime's own recovery (the runtime knows no image store).
package enum OrphanLayers {
    /// Removes the orphans; returns their directories. `unmarked`: also a
    /// layer without a record, free: one a killed maker left half made. Only
    /// with locks/containers.lock held exclusive (rmi, prune), when no layer
    /// is being made (a maker holds it shared until the record is written).
    @discardableResult
    package static func sweep(_ store: ImageStore, unmarked: Bool = false) -> [String] {
        var removed: [String] = []
        let bootID = HostIdentity.bootID(), machineID = HostIdentity.machineID()
        let shared = DirectoryIdentity.isOnNetworkFileSystem(store.containersDirectory)
        for name in HostPath.subdirectories(store.containersDirectory) {
            let dir = store.containersDirectory + "/" + name
            let lock: DirectoryLock
            do {
                guard let held = try DirectoryLock(dir, wait: false) else { continue }  // its owner lives
                lock = held
            } catch {
                continue  // gone meanwhile, or not a directory we can open: not ours to sweep
            }
            defer { lock.release() }
            if let user = ContainerLayerUser.read(in: dir) {
                guard isOrphan(dir, user: user, bootID: bootID, machineID: machineID, storeIsShared: shared) else { continue }
            } else if !unmarked {
                continue
            }
            OwnedLayer.remove(dir)
            removed.append(dir)
        }
        return removed
    }

    /// Whether the container of the layer `dir` (its lock free: no owner
    /// left) is gone for good. The store is shared by every mount namespace
    /// the user works in, and over NFS by other hosts; the state root is not:
    /// its path may name another directory here (systemd's PrivateTmp, a
    /// shell with a /tmp of its own) where a stopped container of the
    /// host's is not. So, on the machine that made the layer only, either:
    /// - the boot is the one the layer was made in (a boot id is drawn at
    ///   random: the same one is the same host too), the state root is here,
    ///   the very directory it was (device and inode: live directories of
    ///   one boot never share them), and the container is not in it
    ///   (`OwnedLayer.isClaimed`); or
    /// - it was made in another boot, and its state root was on a tmpfs or
    ///   ramfs ($XDG_RUNTIME_DIR, a tmpfs /tmp): gone with that boot, in
    ///   every namespace. A state root on disk (`--root` somewhere, a /tmp
    ///   that is no tmpfs) may have outlived the boot, stopped containers
    ///   and all, and this namespace may not see it: a new boot proves
    ///   nothing, and it is looked at as in the same boot. (A /tmp on disk
    ///   that systemd-tmpfiles empties at boot comes back as another
    ///   directory: such layers are kept, which costs disk, not data.)
    ///   Without a machine id, another boot cannot be told from another
    ///   host (whose boot id differs too): kept. Nor on a store on a network
    ///   filesystem (`storeIsShared`), whose other hosts may be clones with
    ///   the same machine id; and in any case only if the state root's
    ///   path holds no such container here.
    /// Anything else is kept: a state root that is not here or is another
    /// directory, another machine's layer, a layer of an older nook (it
    /// recorded only the state root's path, which is what misled the sweep
    /// in another namespace: its container may be stopped in the host's).
    static func isOrphan(_ dir: String, user: ContainerLayerUser, bootID: String, machineID: String, storeIsShared: Bool = false) -> Bool {
        guard let stateRoot = user.stateRoot, let madeInBoot = user.bootID, let madeOnMachine = user.machineID,
              madeOnMachine == machineID, !madeInBoot.isEmpty, !bootID.isEmpty else { return false }
        if madeInBoot != bootID {
            guard !machineID.isEmpty else { return false }
            if user.stateRootInMemory == true, !storeIsShared {
                return !OwnedLayer.isClaimed(dir, container: user.container, stateRoot: stateRoot)
            }
        }
        guard let device = user.stateRootDevice, let inode = user.stateRootInode,
              let now = DirectoryIdentity(path: stateRoot), now.device == device, now.inode == inode else { return false }
        return !OwnedLayer.isClaimed(dir, container: user.container, stateRoot: stateRoot)
    }
}
