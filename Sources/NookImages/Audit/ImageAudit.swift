import NookCore
import NookKernel

/// `nook audit IMAGE`: what to know before trusting an image in the store
/// (threat 6, stale images): how old it is, the digest that pins it, its
/// base system, and the packages the host's Debian archive has newer
/// versions of. Read from the image's unpacked layers (`LayeredTree`), never
/// from a container's view.
package struct ImageAudit: Codable, Sendable {
    package var names: [String]
    /// The manifest digest: `NAME@DIGEST` runs exactly this image.
    package var digest: String
    /// The config digest (the image ID).
    package var id: String
    /// The config's `created`, as written, and the day and age it means.
    package var created: String?
    package var createdDay: String?
    package var ageDays: Int?
    /// os-release's name of the system (`InstalledPackages.systemName`); its ID, VERSION_ID and VERSION_CODENAME below.
    package var system: String?
    package var systemID: String?
    package var systemVersion: String?
    package var codename: String?
    package var packageDatabase: String?
    package var packages: [InstalledPackage] = []
    /// Packages the host's archive has in a newer version, by name.
    package var stale: [StalePackage] = []
    /// Whether the comparison could be made, and with what.
    package var archive: ArchiveComparison

    package struct StalePackage: Codable, Sendable, Equatable {
        package var name: String
        /// In the image.
        package var version: String
        /// The newest the host's archive knows.
        package var archive: String
    }

    package struct ArchiveComparison: Codable, Sendable {
        package var compared: Bool
        /// The apt lists read.
        package var lists: [String] = []
        /// Why not, or what was skipped.
        package var notes: [String] = []
    }

    /// `layers`: the image's unpacked layer directories, bottom first;
    /// `aptLists`: where the host's apt lists are; `now`: seconds since the epoch.
    package static func make(record: ImageRecord, configuration: ImageConfiguration, layers: [String],
                            aptLists: String, now: Int) throws -> ImageAudit {
        let tree = LayeredTree(bottomFirst: layers)
        let created = configuration.created.flatMap(CreatedTime.init)
        var audit = ImageAudit(names: record.names, digest: record.manifest.description, id: record.config.description,
                               created: configuration.created, createdDay: created?.day, ageDays: created?.days(before: now),
                               archive: ArchiveComparison(compared: false))
        let osRelease = try tree.readFile("/etc/os-release", as: .osRelease) ?? tree.readFile("/usr/lib/os-release", as: .osRelease)
        if let osRelease {
            let fields = InstalledPackages.osRelease(String(decoding: osRelease, as: UTF8.self))
            audit.system = InstalledPackages.systemName(fields)
            audit.systemID = fields["ID"]
            audit.systemVersion = fields["VERSION_ID"]
            audit.codename = fields["VERSION_CODENAME"]
        }
        if let status = try tree.readFile(InstalledPackages.dpkgStatusPath, as: .packageDatabase) {
            audit.packageDatabase = InstalledPackages.dpkgStatusPath
            audit.packages = InstalledPackages.dpkgStatus(String(decoding: status, as: UTF8.self))
        } else if let installed = try tree.readFile(InstalledPackages.apkInstalledPath, as: .packageDatabase) {
            audit.packageDatabase = InstalledPackages.apkInstalledPath
            audit.packages = InstalledPackages.apkInstalled(String(decoding: installed, as: UTF8.self))
        }
        try audit.compare(aptLists: aptLists, architecture: configuration.architecture ?? "amd64")
        return audit
    }

    /// Fills `stale` from the host's apt lists, when the image is Debian's and
    /// the host has lists for the image's release; otherwise says why not.
    mutating func compare(aptLists: String, architecture: String) throws {
        guard packageDatabase == InstalledPackages.dpkgStatusPath, !packages.isEmpty else {
            archive.notes.append("no dpkg package database in the image: nothing to compare with a Debian archive")
            return
        }
        guard let codename, !codename.isEmpty else {
            archive.notes.append("the image's os-release names no VERSION_CODENAME: cannot tell which release's archive to compare with")
            return
        }
        let found = try DebianArchive.read(directory: aptLists, codename: codename, architecture: architecture,
                                           wanted: Set(packages.map(\.name)))
        archive.notes += found.skipped
        guard !found.read.isEmpty else {
            let have = found.suites.sorted().joined(separator: ", ")
            archive.notes.append("no apt package list for \(codename) (\(architecture)) in \(aptLists)"
                                 + (have.isEmpty ? "" : "; the host has lists for \(have)") + ": cannot tell which packages are stale")
            return
        }
        archive.compared = true
        archive.lists = found.read
        for package in packages {
            guard let mine = DpkgVersion(package.version), let newest = found.newest[package.name], mine < newest else { continue }
            stale.append(StalePackage(name: package.name, version: package.version, archive: newest.description))
        }
    }
}
