/// A package an image's own database says is installed.
package struct InstalledPackage: Codable, Sendable, Equatable {
    package var name: String
    package var version: String

    package init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

/// The readers of an image's package database and os-release, shared by
/// `nook audit ROOTFS` (NookRuntime) and `nook audit IMAGE` (NookImages):
/// only the text, each caller reads the file its own way.
package enum InstalledPackages {
    package static let dpkgStatusPath = "/var/lib/dpkg/status"
    package static let apkInstalledPath = "/lib/apk/db/installed"

    /// dpkg's status file: the stanzas whose Status ends in "installed", sorted by name.
    package static func dpkgStatus(_ text: String) -> [InstalledPackage] {
        var packages: [InstalledPackage] = []
        for stanza in text.split(separator: "\n\n", omittingEmptySubsequences: true) {
            var name = "", version = "", installed = false
            for line in stanza.split(separator: "\n") {
                if line.hasPrefix("Package: ") { name = String(line.dropFirst(9)) }
                if line.hasPrefix("Version: ") { version = String(line.dropFirst(9)) }
                if line.hasPrefix("Status: ") && line.hasSuffix(" installed") { installed = true }
            }
            if installed && !name.isEmpty { packages.append(InstalledPackage(name: name, version: version)) }
        }
        return packages.sorted { $0.name < $1.name }
    }

    /// apk's installed database (Alpine): P: name, V: version.
    package static func apkInstalled(_ text: String) -> [InstalledPackage] {
        var packages: [InstalledPackage] = []
        var name = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("P:") { name = String(line.dropFirst(2)) }
            if line.hasPrefix("V:") && !name.isEmpty { packages.append(InstalledPackage(name: name, version: String(line.dropFirst(2)))); name = "" }
        }
        return packages.sorted { $0.name < $1.name }
    }

    /// os-release's KEY=value lines, quotes removed ("PRETTY_NAME" -> "Debian GNU/Linux 12 (bookworm)").
    package static func osRelease(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var value = line[line.index(after: eq)...]
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q { value = value.dropFirst().dropLast() }
            fields[String(line[..<eq])] = String(value)
        }
        return fields
    }

    /// What os-release calls the system: PRETTY_NAME, else NAME and VERSION,
    /// else ID (os-release(5); busybox's names only NAME and ID).
    package static func systemName(_ fields: [String: String]) -> String? {
        func given(_ key: String) -> String? { fields[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let pretty = given("PRETTY_NAME") { return pretty }
        if let name = given("NAME") { return [name, given("VERSION")].compactMap { $0 }.joined(separator: " ") }
        return given("ID")
    }

    /// The audits' word when no os-release (a regular file of the tree's own) names the system.
    package static let unknownSystem = "unknown (no readable os-release names it)"
}
