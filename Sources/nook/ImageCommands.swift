import ArgumentParser
import Glibc
import NookCore
import NookImageRun
import NookImages
import NookKernel
import NookRuntime

/// `nook image SUBCOMMAND`, as podman names them; `nook images` and `nook rmi` too.
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Manage images: list, import, export, inspect, remove, prune.",
        subcommands: [ImageListCommand.self, ImageImportCommand.self, ImageExportCommand.self, ImageInspectCommand.self,
                      ImageRemoveCommand.self, ImagePruneCommand.self, ImageUnpackCommand.self]
    )
}

/// The user's image store, made if missing.
func openImageStore() throws -> ImageStore {
    let store = ImageStore(root: try ImageStore.defaultRoot(environment: ProcessEnvironment.current()))
    try store.prepare()
    return store
}

/// The record `text` names, or an error that says so.
func findImage(_ text: String, in store: ImageStore) throws -> ImageRecord {
    guard let record = try ImageRecords(store: store).find(text) else {
        throw NookError("image '\(PrintableText.escaped(text))' is not in the store", hint: "see 'nook images'; pull or import it first",
                        kind: .notFound(.image, name: text))
    }
    return record
}

struct ImageListOptions: ParsableArguments {
    @Flag(help: "Show the manifest digests.") var digests = false
    @Flag(name: .shortAndLong, help: "Only the image IDs.") var quiet = false
    @Option(help: "table or json.") var format = "table"

    struct Row: Encodable {
        var Id: String
        var Names: [String]
        var RepoTags: [String]
        var RepoDigests: [String]
        var Digest: String
        var Created: Int64
        var CreatedAt: String
        var Size: Int64
    }

    func run() throws {
        let store = try openImageStore()
        var records: [(ImageRecord, String)] = []
        for record in try ImageRecords(store: store).all() {
            // the list shows an image whose config cannot be read, with no date
            let created = (try? store.readJSON(ImageConfiguration.self, record.config, what: "config"))?.created ?? ""
            records.append((record, created))
        }
        records.sort { (Age.seconds(rfc3339: $0.1) ?? 0) > (Age.seconds(rfc3339: $1.1) ?? 0) }
        if quiet {
            for (record, _) in records { print(record.config.short) }
            return
        }
        switch format {
        case "json":
            let rows = records.map { record, created in
                Row(Id: record.config.hex, Names: record.names, RepoTags: record.repoTags, RepoDigests: record.repoDigests,
                    Digest: record.manifest.description, Created: Age.seconds(rfc3339: created) ?? 0, CreatedAt: created, Size: record.size)
            }
            print(try JSONText.encode(rows, pretty: true))
        case "table":
            var table = [["REPOSITORY", "TAG"] + (digests ? ["DIGEST"] : []) + ["IMAGE ID", "CREATED", "SIZE"]]
            for (record, created) in records {
                let names = record.names.isEmpty ? ["<none>:<none>"] : record.names
                for name in names {
                    let repository = name == "<none>:<none>" ? "<none>" : ImageRecord.repository(of: name)
                    table.append([repository, ImageRecord.tag(of: name) ?? "<none>"] + (digests ? [record.manifest.description] : [])
                                 + [record.config.short, Age.human(since: created), Self.humanSize(record.size)])
                }
            }
            print(Table.render(table))
        default:
            throw NookError("unknown --format '\(format)'", hint: "use table or json", kind: .invalidInput)
        }
    }

    /// podman's SIZE: decimal units, three significant digits ("4.86 MB").
    static func humanSize(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        let decimals = value >= 100 ? 0 : value >= 10 ? 1 : 2
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = decimals == 0 ? String(Int(rounded)) : String(rounded)
        if text.contains(".") { while text.hasSuffix("0") { text.removeLast() }; if text.hasSuffix(".") { text.removeLast() } }
        return text + " " + units[unit]
    }
}

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images (as nook image ls).")
    @OptionGroup var options: ImageListOptions
    func run() throws { try options.run() }
}

struct ImageListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images.", aliases: ["list"])
    @OptionGroup var options: ImageListOptions
    func run() throws { try options.run() }
}

struct ImageImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an image from an OCI layout directory, an oci-archive or a docker-archive.",
        discussion: "Every blob is checked against its digest as it is stored. REF names the image (and picks it when the source holds several)."
    )
    @Argument(help: "An OCI image layout directory, or an oci-archive or docker-archive tar.") var path: String
    @Argument(help: "The name to give the image, e.g. localhost/app:1.0.") var reference: String?

    func run() throws {
        let store = try openImageStore()
        let parsed = try reference.map { try ImageReference(parsing: $0) }
        let record = try ImageImporter(store: store).importImage(from: path, reference: parsed, referenceText: reference)
        if record.names.isEmpty { print("Loaded image: \(record.config.description)") }
        for name in record.names { print("Loaded image: \(name)") }
    }
}

struct ImageExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an image as an oci-archive tar, or an OCI layout directory."
    )
    @Argument(help: "The image.") var image: String
    @Argument(help: "The file (or directory) to create.") var path: String
    @Option(help: "oci-archive (a tar, default) or oci-dir (a directory).") var format = "oci-archive"

    func run() throws {
        guard let kind = ImageExporter.Format(rawValue: format) else {
            throw NookError("unknown --format '\(format)'", hint: "use oci-archive or oci-dir", kind: .invalidInput)
        }
        let store = try openImageStore()
        let record = try findImage(image, in: store)
        // An image ID is no name: the export is then named by the image's first
        // name. A pin is named as given (by the manifest's digest: `ImageExporter`).
        let reference = try? ImageReference(parsing: image)
        let name = reference.flatMap { $0.digest != nil || record.names.contains($0.description) ? $0.description : nil } ?? record.names.first
        try ImageExporter(store: store).export(record, name: name, to: path, format: kind)
    }
}

struct ImageInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show images' manifests and configs as JSON.")
    @Argument(help: "Images.") var images: [String]

    struct Details: Encodable {
        var Id: String
        var Digest: String
        var RepoTags: [String]
        var RepoDigests: [String]
        var Created: String?
        var Architecture: String?
        var Os: String?
        var Size: Int64
        var Config: ImageConfiguration.RunDefaults?
        var RootFS: RootFS
        struct RootFS: Encodable { var `Type`: String; var Layers: [String] }
    }

    func run() throws {
        let store = try openImageStore()
        var all: [Details] = []
        for text in images {
            let record = try findImage(text, in: store)
            let config = try store.readJSON(ImageConfiguration.self, record.config, what: "config")
            all.append(Details(Id: record.config.hex, Digest: record.manifest.description, RepoTags: record.repoTags, RepoDigests: record.repoDigests,
                               Created: config.created, Architecture: config.architecture, Os: config.os, Size: record.size,
                               Config: config.config, RootFS: .init(Type: config.rootfs.type, Layers: record.diffIDs.map(\.description))))
        }
        print(try JSONText.encode(all, pretty: true))
    }
}

/// What rmi and prune share: removes records, the blobs only they used, and
/// (inside the user namespace) their layers' trees.
/// An image a container uses (its layer names it: `ContainerLayerUser`) is
/// never removed: rmi refuses it, prune keeps it. No --force removing the
/// containers too (podman's rmi -f): `nook rm` them first.
///
/// Both decide under locks/containers.lock held exclusive (`exclusive`): a
/// `run`/`create` of an image holds it shared from resolving the image to
/// marking its layer, so no layer of an image appears while rmi looks. The
/// layers nobody owns any more go first (`OrphanLayers`): a killed run's
/// layer does not keep its image.
enum ImageRemoval {
    /// locks/containers.lock, exclusive, and the orphan layers swept under it.
    static func exclusive(_ store: ImageStore) throws -> StoreLock {
        let lock = try StoreLock(store: store, name: ImageStore.containersLockName) { path in
            Tracer.standardError("nook: waiting for another nook command: a run or create making a container layer, or an rmi or prune (\(path); one stopped with ^Z holds it until it goes on)")
        }
        OrphanLayers.sweep(store, unmarked: true)
        return lock
    }

    /// The image IDs of `removed` that no record has any more (another
    /// manifest of the same config keeps its ID): what `Deleted:` names.
    static func deletedIDs(_ removed: [ImageRecord], store: ImageStore) throws -> [Digest] {
        let kept = Set(try ImageRecords(store: store).all().map(\.config))
        return Set(removed.map(\.config)).subtracting(kept).sorted()
    }

    /// The caller holds `exclusive`.
    static func remove(in store: ImageStore, where pick: (ImageRecord) -> Bool) throws -> (removed: [ImageRecord], freed: Int64) {
        let users = store.containerLayerUsers()
        let (removed, garbage) = try store.removeImages(where: { pick($0) && users[$0.manifest] == nil })
        try ImageLayers.remove(garbage.layers, store: store)
        return (removed, garbage.bytes)
    }
}

struct RemoveImagesOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Also remove the containers that use the images, running ones killed (podman's rmi -f).") var force = false
    @Argument(help: "Images: names or IDs.") var images: [String]

    /// What `rmi TEXT` does: take one name off, or remove these records.
    enum Removal {
        case untag(String)
        case remove(Set<Digest>)
    }

    func run() throws {
        let store = try openImageStore()
        // -f: the images' containers go first, before the store's lock: a
        // container whose nook is stopped (^Z) holds its own lock, and the wait
        // for it must not hold up every run of every image.
        // Every argument resolved before any container goes: a name that is not there kills nothing.
        if force {
            let removals = try images.map { try removal(of: $0, in: store) }
            for case .remove(let manifests) in removals { try Self.removeContainers(using: manifests, store: store) }
        }
        let lock = try ImageRemoval.exclusive(store)
        defer { lock.unlock() }
        for text in images {
            switch try removal(of: text, in: store) {
            case .untag(let name):
                try store.untag(name)
                print("Untagged: \(name)")
            case .remove(let manifests):
                let users = store.containerLayerUsers()
                for manifest in manifests.sorted() {
                    guard let containers = users[manifest] else { continue }
                    throw NookError("image '\(PrintableText.escaped(text))' is in use by container \(containers.joined(separator: ", "))",
                                    hint: Self.inUseHint(store.containerLayers(of: manifest)))
                }
                let removed = try ImageRemoval.remove(in: store, where: { manifests.contains($0.manifest) }).removed
                for name in removed.flatMap(\.names) { print("Untagged: \(name)") }
                for id in try ImageRemoval.deletedIDs(removed, store: store) { print("Deleted: \(id.hex)") }
            }
        }
    }

    /// A name of an image with other names: only that name goes (podman's
    /// untag). An image ID names every record of that config (one image,
    /// `ImageRecords.find`), a digest the record it pins; either, for an
    /// image with several names, only with -f (podman's rule), as it removes
    /// them all.
    func removal(of text: String, in store: ImageStore) throws -> Removal {
        let record = try findImage(text, in: store)
        let reference = try? ImageReference(parsing: text)  // an ID is no reference: nil
        let isName = reference.map { record.names.contains($0.recordedName) } ?? false
        if isName, let name = reference?.recordedName, record.names.count > 1 { return .untag(name) }
        let byID = !isName && ImageRecords.idPrefix(text).map(record.config.hex.hasPrefix) == true
        let byDigest = !isName && reference?.digest != nil
        let targets = try ImageRecords(store: store).all().filter { $0.manifest == record.manifest || (byID && $0.config == record.config) }
        let names = targets.flatMap(\.names)
        if byID || byDigest, names.count > 1, !force {
            throw NookError("image '\(PrintableText.escaped(text))' has \(names.count) names (\(names.joined(separator: ", "))): \(byID ? "an ID" : "a digest") removes them all",
                            hint: "remove one name with nook rmi NAME, or all of them with nook rmi -f \(PrintableText.escaped(text))", kind: .invalidInput)
        }
        return .remove(Set(targets.map(\.manifest)))
    }
}

extension RemoveImagesOptions {
    /// `-f`: every container of these images that its state root holds, as
    /// seen from here, removed as `nook rm -f` would (its layer goes with it).
    /// Those it does not hold (another mount namespace) stay, and keep the image.
    static func removeContainers(using manifests: Set<Digest>, store: ImageStore) throws {
        for manifest in manifests.sorted() {
            for (directory, user) in store.containerLayers(of: manifest) {
                guard let root = user.stateRoot, OwnedLayer.isClaimed(directory, container: user.container, stateRoot: root),
                      access(root + "/" + user.container, F_OK) == 0 else { continue }
                try Runtime(stateRoot: root, environment: ProcessEnvironment.current(), monitor: .currentProcess).delete(id: user.container, force: true)
            }
        }
    }

    /// `nook rm` for a container this caller can see; for one whose state
    /// root does not hold it from here (another mount namespace, or a
    /// reboot that left an on-disk state root, which no sweep decides on):
    /// how to remove its layer by hand, once the user knows it is gone.
    static func inUseHint(_ layers: [(directory: String, user: ContainerLayerUser)]) -> String {
        var stopped: [String] = [], running: [String] = [], elsewhere: [String] = [], unseen: [String] = []
        for (directory, user) in layers {
            // held: a nook (a run, a monitor) owns it now, whatever its state root says
            var held = false
            do {
                let lock = try DirectoryLock(directory, wait: false)
                held = lock == nil
                lock?.release()
            } catch {
                held = false  // cannot be opened: looked at by its state root only
            }
            let seen = user.stateRoot.map { OwnedLayer.isClaimed(directory, container: user.container, stateRoot: $0)
                && access($0 + "/" + user.container, F_OK) == 0 } ?? false
            switch (held, seen) {
            case (true, true): running.append(user.container)
            case (true, false): elsewhere.append(user.container)
            case (false, true): stopped.append(user.container)
            case (false, false): unseen.append(directory)
            }
        }
        var hints: [String] = []
        if !stopped.isEmpty { hints.append("remove the container first: nook rm \(stopped.sorted().joined(separator: " "))") }
        if !running.isEmpty { hints.append("it runs: stop and remove it first: nook rm -f \(running.sorted().joined(separator: " "))") }
        if !elsewhere.isEmpty {
            hints.append("a nook process runs \(elsewhere.sorted().joined(separator: ", ")) now, from a state root not seen from here: stop it there first")
        }
        if !unseen.isEmpty {
            hints.append("no such container is in its state root as seen from here (another mount namespace, or one gone with a reboot); "
                         + "if it is gone, remove its writable layer: nook unshare rm -rf \(unseen.sorted().map(Self.shellQuoted).joined(separator: " "))")
        }
        return hints.joined(separator: "; ")
    }

    /// `text` as one shell word, printable: safe to paste.
    static func shellQuoted(_ text: String) -> String {
        "'" + PrintableText.escaped(text).split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}

struct RmiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove images (as nook image rm).")
    @OptionGroup var options: RemoveImagesOptions
    func run() throws { try options.run() }
}

struct ImageRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove images: their names, and the blobs and layers no other image uses.")
    @OptionGroup var options: RemoveImagesOptions
    func run() throws { try options.run() }
}

struct ImagePruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove images that have no name.")

    func run() throws {
        let store = try openImageStore()
        let lock = try ImageRemoval.exclusive(store)
        defer { lock.unlock() }
        let (removed, freed) = try ImageRemoval.remove(in: store, where: { $0.names.isEmpty })
        for id in try ImageRemoval.deletedIDs(removed, store: store) { print("Deleted: \(id.hex)") }
        print("Removed \(removed.count) image\(removed.count == 1 ? "" : "s"), freed \(ImageListOptions.humanSize(freed)) of blobs")
    }
}

/// `nook image unpack IMAGE`: unpacks the image's layers now (`nook run`
/// does it at first use) and prints their directories, bottom first.
struct ImageUnpackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Unpack an image's layers into the store and print their directories, bottom first.",
        discussion: "Layers are unpacked inside your containers' user namespace: files keep the owners the image names, shifted into your sub-id range (see nook unshare)."
    )
    @Argument(help: "The image.") var image: String

    func run() throws {
        let store = try openImageStore()
        for path in try ImageLayers.ensureUnpacked(try findImage(image, in: store), store: store) { print(path) }
    }
}
