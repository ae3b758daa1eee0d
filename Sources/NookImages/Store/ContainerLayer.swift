import Glibc
import NookCore
import NookKernel
import NookSpec

/// A container's own writable layer in the store: `containers/<id>-<random>/`
/// with `upper` and `work` (overlayfs's) and `merged`, where the container's
/// child mounts the overlay and which becomes its root, and `user.json`
/// (`ContainerLayerUser`: which image, which container; rmi reads it). The
/// copy storage driver (`copy`) makes only `merged` and copies the layers
/// into it: a plain root, no overlay. The spec names the directory (`RootOverlay.ownedLayerAnnotation`): the runtime
/// removes it with the container, knowing only that it is the container's own.
///
/// The directory is flock'd (`lock`) from the moment it exists, before
/// anything is in it: the maker holds the lock and hands it on to whoever
/// owns the container (the foreground `nook run` itself, or the detached
/// container's monitor, which inherits it). A layer whose lock anyone can
/// take has no owner left: a sweep removes it if its container is gone too.
package struct ContainerLayer: Sendable {
    package let directory: String
    /// nil with the copy driver.
    package let overlay: RootOverlay?
    /// The layer's lock, held: the owner keeps it for the container's life.
    package let lock: DirectoryLock

    package var rootfs: String { directory + "/merged" }

    /// The store is prepared already (`ImageStore.prepare`: `ImageRun` does it first).
    /// - Parameters:
    ///   - layers: the image's unpacked layers, bottom first.
    ///   - image: the image's manifest digest, recorded for rmi.
    ///   - stateRoot: the container's state root, recorded for the sweep (`OrphanLayers`).
    ///   - readOnly: no upper layer: the image stays as it is.
    ///   - copy: no overlay: the caller copies the layers into `rootfs`.
    ///   - fuseProgram: fuse-overlayfs serves the overlay, not the kernel (`RootOverlay.fuseProgram`).
    ///   - volatile: the layer goes when the container stops (a foreground run,
    ///     `-d --rm`): overlayfs's `volatile`, no sync at unmount (`RootOverlay`).
    package init(store: ImageStore, containerID: String, image: Digest, stateRoot: String, layers: [String], readOnly: Bool,
                copy: Bool = false, volatile: Bool = false, fuseProgram: String? = nil) throws {
        guard !layers.isEmpty else { throw NookError("the image has no layers to run", hint: "import or pull a complete image") }
        for path in layers { try RootOverlay.checkPath(path) }
        var directory = ""
        for _ in 0..<8 {
            let candidate = store.containersDirectory + "/" + containerID + "-" + Self.randomSuffix()
            if mkdir(candidate, 0o700) == 0 { directory = candidate; break }
            guard errno == EEXIST else { throw NookError.sys("mkdir '\(candidate)'", path: candidate, errno: errno) }
        }
        guard !directory.isEmpty else { throw NookError("could not make a fresh directory in '\(store.containersDirectory)'") }
        let held: DirectoryLock
        do {
            // Waiting: a sweep may have it for a moment (it finds no record yet, and lets go).
            guard let taken = try DirectoryLock(directory, wait: true) else { throw NookError("could not lock '\(directory)'") }
            held = taken
        } catch {
            rmdir(directory)
            throw error
        }
        do {
            var names = ["merged"]
            var lower = Array(layers.reversed())
            if copy {
                // only merged
            } else if readOnly {
                // overlayfs wants two lower layers when there is no upper: an empty one at the bottom.
                if lower.count == 1 { names.append("empty"); lower.append(directory + "/empty") }
            } else {
                names += ["upper", "work"]
            }
            for name in names where mkdir(directory + "/" + name, 0o755) != 0 {
                throw NookError.sys("mkdir '\(directory)/\(name)'", errno: errno)
            }
            try RootOverlay.checkPath(directory)
            try ContainerLayerUser.made(image: image, container: containerID, stateRoot: stateRoot).write(in: directory)
            overlay = copy ? nil : RootOverlay(lower: lower, upper: readOnly ? nil : directory + "/upper", work: readOnly ? nil : directory + "/work",
                                               volatile: volatile, fuseProgram: fuseProgram)
        } catch {
            unlink(directory + "/" + ContainerLayerUser.fileName)
            for name in ["merged", "upper", "work", "empty"] { rmdir(directory + "/" + name) }
            rmdir(directory)
            throw error
        }
        self.directory = directory
        lock = held
    }

    static func randomSuffix() -> String {
        var rng = SystemRandomNumberGenerator()
        return String(UInt32.random(in: 0...UInt32.max, using: &rng), radix: 16)
    }
}
