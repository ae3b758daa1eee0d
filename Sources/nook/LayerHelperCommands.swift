import ArgumentParser
import Glibc
import NookCore
import NookImages
import NookKernel
import NookRuntime

/// `nook __unpack-layers`: what `ImageLayers.ensureUnpacked` runs inside the
/// user namespace (as root there, so files get the owners the image says,
/// shifted into the user's sub-id range). Not for people: hidden.
struct UnpackLayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__unpack-layers", shouldDisplay: false)

    @Option(help: "The image store.") var store: String
    @Flag(help: "The namespace maps only the user: files stay the user's.") var dropOwnership = false
    @Argument(help: "DIFF-ID BLOB-DIGEST MEDIA-TYPE, for each layer.") var layers: [String]

    func run() throws {
        // pax headers carry UTF-8 names: libarchive hands them over as they are only in a UTF-8 locale.
        _ = setlocale(LC_CTYPE, "C.UTF-8")
        guard layers.count % 3 == 0 else { throw NookError("__unpack-layers takes DIFF-ID BLOB-DIGEST MEDIA-TYPE triples") }
        let layerStore = LayerStore(store: ImageStore(root: store))
        for i in stride(from: 0, to: layers.count, by: 3) {
            let diffID = try Digest(layers[i])
            let blob = try Digest(layers[i + 1])
            let descriptor = Descriptor(mediaType: layers[i + 2], digest: blob, size: 0)
            try layerStore.unpack(layer: descriptor, diffID: diffID, keepOwnership: !dropOwnership) { writeStandardError("nook: note: \($0)\n") }
        }
    }
}

/// `nook __remove-layers`: removes layer trees inside the user namespace
/// (their files may be owned by sub-ids). Hidden.
struct RemoveLayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__remove-layers", shouldDisplay: false)

    @Option(help: "The image store.") var store: String
    @Argument(help: "Diff IDs.") var diffIDs: [String]

    func run() throws {
        let layerStore = LayerStore(store: ImageStore(root: store))
        for text in diffIDs { try layerStore.remove(try Digest(text)) }
    }
}

/// `nook __copy-layers DEST LAYER...`: the copy storage driver's root,
/// made inside the user namespace (files keep their sub-id owners). Hidden.
struct CopyLayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__copy-layers", shouldDisplay: false)

    @Flag(help: "A trace line for each file whose capabilities are not copied.") var trace = false
    @Argument(help: "The directory to fill.") var destination: String
    @Argument(help: "The layers' directories, bottom first.") var layers: [String]

    func run() throws {
        let tracer = Tracer(enabled: trace)
        try LayerFlattener.flatten(layers: layers, into: destination) { path in
            tracer.emit("storage", "copy \(path) without its security.capability",
                        "the copy driver does not copy file capabilities (by design): \(path) runs with none of them")
        }
    }
}

/// `nook __probe-overlay DIR`: can overlayfs be mounted in this user
/// namespace? Exit 0 if so; else 1, with strerror in DIR/reason. Hidden.
struct ProbeOverlayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__probe-overlay", shouldDisplay: false)

    @Argument(help: "An empty directory of the caller's.") var directory: String

    func run() throws {
        for name in ["lower", "upper", "work", "merged"] where mkdir(directory + "/" + name, 0o700) != 0 {
            throw NookError.sys("mkdir '\(directory)/\(name)'", errno: errno)
        }
        let options = "lowerdir=\(directory)/lower,upperdir=\(directory)/upper,workdir=\(directory)/work,userxattr"
        if mount("overlay", directory + "/merged", "overlay", 0, options) == 0 {
            umount2(directory + "/merged", Int32(MNT_DETACH))
            return
        }
        let reason = "mount overlay: " + String(cString: strerror(errno))
        try HostPath.writeText(directory + "/reason", reason + "\n", create: true, mode: 0o600)
        throw ExitCode(1)
    }
}
