import Glibc
import NookCore
import NookKernel
import NookSpec

/// A container's own writable layer: the directory its spec's annotation
/// names (`RootOverlay.ownedLayerAnnotation`), holding `merged` (root.path)
/// and, unless read-only, the overlay's `upper` and `work`; with the copy
/// storage driver, `merged` is a plain directory (the layers copied). It goes with the
/// container. Files in it may belong to sub-ids (the container's users): what
/// the caller cannot remove is removed inside a user namespace mapped like the
/// container's, where the caller is root.
package enum OwnedLayer {
    /// The directory, when the spec's root really is an overlay over it, or
    /// (no overlay: a copy) its `merged` and the directory records its user.
    /// Only `containers/<container>-<hex>` directly in the image store: the annotation
    /// comes from a spec, and a hostile bundle could name any directory the user
    /// owns, or another container's layer.
    package static func directory(of spec: Spec, container: String,
                                 environment: [String: String] = ProcessEnvironment.current()) -> String? {
        guard let dir = spec.annotations?[RootOverlay.ownedLayerAnnotation], dir.hasPrefix("/"), dir != "/",
              let containers = try? ImageStoreLocation.containers(environment: environment),  // no store: no layer of ours
              isDirectlyIn(containers, dir), isLayer(named: String(dir.dropFirst(containers.count + 1)), of: container),
              spec.root?.path == dir + "/merged",
              let found = try? RootOverlayPlan.find(in: spec) as RootOverlay?? else { return nil }  // an unreadable overlay: nothing of ours
        guard let overlay = found else { return access(dir + "/" + RootOverlay.layerUserFile, F_OK) == 0 ? dir : nil }
        guard overlay.readOnly || (overlay.upper == dir + "/upper" && overlay.work == dir + "/work") else { return nil }
        return dir
    }

    /// Removes the layer named in the spec at `specPath`, if any. Best effort,
    /// like the rest of a removal: a failure is said on stderr.
    package static func remove(namedIn specPath: String, container: String) {
        // No readable spec: no layer named, nothing to remove.
        guard let bytes = try? HostPath.readBytes(specPath, as: .configJSON, label: specPath, noFollow: true),
              // Most containers have no layer of their own: no JSON decoding for them.
              bytes.contains(subsequence: Array(RootOverlay.ownedLayerAnnotation.utf8)),
              let spec = try? layerFields(bytes, source: specPath),  // no spec, or not one of ours: nothing to remove
              let dir = directory(of: spec, container: container) else { return }
        remove(dir)
    }

    /// Removes the layer `spec` names, if any (a run ending, with the spec it wrote).
    package static func remove(of spec: Spec, container: String) {
        if let dir = directory(of: spec, container: container) { remove(dir) }
    }

    /// Whether container `container` of the state root `stateRoot` still has
    /// the layer `dir`: its state directory is there and its config.json
    /// names `dir` (or has no readable config.json yet: being made). What
    /// cannot be looked at counts as there. A sweep of the image store
    /// (`OrphanLayers`) removes a layer no container has, once nobody holds its lock.
    package static func isClaimed(_ dir: String, container: String, stateRoot: String) -> Bool {
        guard (try? StateStore.validate(id: container)) != nil else { return true }  // not a name of ours: leave the layer alone
        let stateDirectory = stateRoot + "/" + container
        var st = stat()
        guard lstat(stateDirectory, &st) == 0 else { return errno != ENOENT && errno != ENOTDIR }
        guard st.st_mode & S_IFMT == S_IFDIR else { return false }
        let specPath = stateDirectory + "/" + Runtime.specName
        // no config.json (yet) or one that cannot be read: the container may be being made
        guard let bytes = try? HostPath.readBytes(specPath, as: .configJSON, label: specPath, noFollow: true),
              let spec = try? layerFields(bytes, source: specPath) else { return true }  // not readable as a spec: as above
        return spec.annotations?[RootOverlay.ownedLayerAnnotation] == dir
    }

    /// What of a config.json names the layer: its annotations, root and
    /// mounts. Decoding the rest too (the process with its seccomp profile)
    /// took a millisecond of every image container's removal.
    static func layerFields(_ bytes: [UInt8], source: String) throws -> Spec {
        struct LayerFields: Decodable {
            var annotations: [String: String]?
            var root: Spec.Root?
            var mounts: [Spec.Mount]?
        }
        let fields = try SpecDecoder.decodeJSON(LayerFields.self, from: bytes, what: source)
        return Spec(root: fields.root, mounts: fields.mounts, annotations: fields.annotations)
    }

    /// `dir` is `parent/NAME`, NAME one component other than `.` and `..`.
    static func isDirectlyIn(_ parent: String, _ dir: String) -> Bool {
        guard dir.hasPrefix(parent + "/") else { return false }
        let name = dir.dropFirst(parent.count + 1)
        return !name.isEmpty && name != "." && name != ".." && !name.contains("/")
    }

    /// `NAME` is `<container>-<hex>` (`ContainerLayer`'s form): the container's
    /// id, then one dash and the random part, which has no dash.
    static func isLayer(named name: String, of container: String) -> Bool {
        guard name.hasPrefix(container + "-") else { return false }
        let random = name.dropFirst(container.count + 1)
        return !random.isEmpty && random.allSatisfy(\.isHexDigit)
    }

    /// The layer's lock (`DirectoryLock`), for a monitor that did not
    /// inherit it (`nook start` of a stopped container): waits a little for
    /// a sweep that is looking at it; nil if it cannot be had (the container
    /// is in its state root, which keeps the layer from any sweep anyway).
    package static func lock(_ dir: String) -> DirectoryLock? {
        for _ in 0..<100 {
            do {
                if let held = try DirectoryLock(dir, wait: false) { return held }
            } catch {
                return nil  // a layer that cannot be opened: nothing to hold (the run fails on its own)
            }
            usleep(20_000)
        }
        return nil
    }

    package static func remove(_ dir: String) {
        // As the caller first: most layers hold only the caller's files (and no spawn is the fastest).
        if (try? TreeRemover.remove(dir)) != nil { return }  // what failed is removed next, in the user namespace
        do {
            let status = try UserNamespaceCommand.containerMapping().run(program: "/bin/rm", arguments: ["rm", "-rf", "--", dir])
            if status != 0 || access(dir, F_OK) == 0 {
                Tracer.standardError("nook: could not remove the container's layer '\(dir)' (rm: exit \(status))")
            }
        } catch {
            Tracer.standardError("nook: could not remove the container's layer '\(dir)': \(error)")
        }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { i in self[i] == needle[0] && self[i..<(i + needle.count)].elementsEqual(needle) }
    }
}
