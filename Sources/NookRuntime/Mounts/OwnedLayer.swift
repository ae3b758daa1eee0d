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
              let spec = try? SpecDecoder.decode(bytes, source: specPath),  // no spec, or not one of ours: nothing to remove
              let dir = directory(of: spec, container: container) else { return }
        remove(dir)
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
