import NookCore
import NookImages

/// `nook audit IMAGE`'s text report. What the image controls (its system's
/// name, package names and versions) is escaped: it is printed to a terminal.
enum ImageAuditText {
    static func render(_ audit: ImageAudit) -> String {
        func clean(_ text: String) -> String { PrintableText.escaped(text) }
        var lines: [String] = []
        lines.append("image: \(audit.names.isEmpty ? "<none>" : audit.names.joined(separator: ", "))")
        lines.append("digest: \(audit.digest)")
        for name in audit.names {
            // A stored name parsed when it was stored; one that does not now gets no pin line.
            if let reference = try? ImageReference(parsing: name) { lines.append("  pin it: \(reference.name)@\(audit.digest)") }
        }
        lines.append("id: \(audit.id)")
        if let day = audit.createdDay, let days = audit.ageDays {
            lines.append("created: \(day), \(days) day\(days == 1 ? "" : "s") ago: its packages are as old as that unless it was rebuilt")
        } else {
            lines.append("created: \(audit.created.map { "'\(clean($0))' (not a date nook can read)" } ?? "unknown (the config says nothing)")")
        }
        var system = audit.system.map(clean) ?? InstalledPackages.unknownSystem
        if let id = audit.systemID, let version = audit.systemVersion {
            system += " [\(clean(id)) \(clean(version))\(audit.codename.map { ", \(clean($0))" } ?? "")]"
        }
        lines.append("system: \(system)")
        lines.append("packages (\(audit.packages.count)) from \(audit.packageDatabase ?? "no package database found")")
        if audit.archive.compared {
            lines.append("stale packages (\(audit.stale.count)): the host's Debian archive has newer versions, often security fixes")
            for p in audit.stale { lines.append("  \(clean(p.name)) \(clean(p.version)) < \(clean(p.archive))") }
            lines.append("  compared with \(audit.archive.lists.joined(separator: ", "))")
        } else {
            lines.append("stale packages: cannot tell")
        }
        for note in audit.archive.notes { lines.append("  note: \(clean(note))") }
        return lines.joined(separator: "\n")
    }
}
