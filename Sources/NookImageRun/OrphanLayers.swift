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
/// container is no longer in the state root the record names
/// (`OwnedLayer.isClaimed`). Orphans are removed as a container's layer is
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
                // No state root recorded (an older nook's layer): its container cannot be looked for.
                guard let stateRoot = user.stateRoot, !OwnedLayer.isClaimed(dir, container: user.container, stateRoot: stateRoot) else { continue }
            } else if !unmarked {
                continue
            }
            OwnedLayer.remove(dir)
            removed.append(dir)
        }
        return removed
    }
}
