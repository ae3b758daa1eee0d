import ArgumentParser
import Glibc
import NookCore
import NookImageRun
import NookImages
import NookKernel
import NookRuntime
import NookSpec

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List what to check before trusting a rootfs or an image: risky files, its age, stale packages.",
        discussion: """
            A directory is audited as a rootfs: setuid/setgid files, world-writable paths, devices, packages.
            An image in the store (a name, a digest or an ID, as nook images shows them): its age, digest,
            base system and the packages the host's Debian archive (apt's lists) has newer versions of.
            """)
    @Flag(help: "Exit 1 when setuid files or device nodes (a rootfs) or stale packages (an image) are found.") var strict = false
    @Option(name: [.short, .customLong("format")], help: "text or json.") var format: String = "text"
    @Option(name: .customLong("apt-lists"), help: ArgumentHelp("The apt package lists an image is compared with.", valueName: "dir"))
    var aptLists: String = DebianArchive.defaultLists
    @Argument(help: ArgumentHelp("The unpacked root filesystem, or an image in the store.", valueName: "rootfs-or-image")) var target: String

    func run() throws {
        guard ["text", "json"].contains(format) else {
            throw NookError("unknown --format '\(format)'", hint: "use text or json", kind: .invalidInput)
        }
        guard !target.isEmpty else { throw NookError("the rootfs to audit is empty ('')", hint: "name an unpacked root filesystem, e.g. nook audit ./rootfs") }
        // A path that exists is a rootfs (a directory of that name wins over an image).
        if !HostPath.exists(target) {
            guard let image = try storedImage() else {
                throw NookError("'\(target)' is neither a directory nor an image in the store",
                                hint: "name an unpacked rootfs, or an image that nook images lists (nook pull REF fetches one)")
            }
            try auditImage(image.record, in: image.store)
            return
        }
        let audit = try RootfsAudit.scan(try HostPath.absolute(target))
        if format == "json" {
            print(try JSONText.encode(audit, pretty: true))
        } else {
            func section(_ title: String, _ items: [String], _ why: String) {
                print("\(title) (\(items.count)): \(why)")
                for item in items.prefix(200) { print("  \(item)") }
                if items.count > 200 { print("  ... \(items.count - 200) more") }
            }
            section("setuid files", audit.setuid, "run with their owner's rights (no_new_privs neutralises them in Nook)")
            section("setgid files", audit.setgid, "run with their group's rights")
            section("world-writable", audit.worldWritable, "anyone in the container can change them")
            section("device nodes", audit.devices, "direct access to hardware if ever mounted with dev")
            if !audit.unreadable.isEmpty {
                section("unreadable directories", audit.unreadable, "you may not read them, so the audit could not look inside")
            }
            print("system: \(audit.system ?? InstalledPackages.unknownSystem)")
            print("packages (\(audit.packages.count)) from \(audit.packageDatabase ?? "no package database found"): check them for known vulnerabilities")
            for p in audit.packages.prefix(500) { print("  \(p.name) \(p.version)") }
        }
        if strict && audit.hasFindings {
            writeStandardError("nook: audit --strict: \(audit.setuid.count) setuid file(s), \(audit.devices.count) device node(s)\n")
            Glibc.exit(1)
        }
    }

    /// The image `target` names in the user's store; nil when it names none
    /// (or there is no store).
    func storedImage() throws -> (record: ImageRecord, store: ImageStore)? {
        // No HOME and no XDG_DATA_HOME: no store, so the target is no image.
        guard let root = try? ImageStore.defaultRoot(environment: ProcessEnvironment.current()), HostPath.isDirectory(root) else { return nil }
        let store = ImageStore(root: root)
        guard let record = try ImageRecords(store: store).find(target) else { return nil }
        return (record, store)
    }

    func auditImage(_ record: ImageRecord, in store: ImageStore) throws {
        let configuration = try store.readJSON(ImageConfiguration.self, record.config, what: "image config")
        // Unpacked at first use, as nook run does (the layer directories, bottom first).
        let layers = try ImageLayers.ensureUnpacked(record, store: store)
        let audit = try ImageAudit.make(record: record, configuration: configuration, layers: layers,
                                        aptLists: aptLists, now: Int(time(nil)))
        if format == "json" {
            print(try JSONText.encode(audit, pretty: true))
        } else {
            print(ImageAuditText.render(audit))
        }
        if strict && !audit.stale.isEmpty {
            writeStandardError("nook: audit --strict: \(audit.stale.count) stale package(s)\n")
            Glibc.exit(1)
        }
    }
}
