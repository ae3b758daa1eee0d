import ArgumentParser
import Glibc
import NookCore
import NookKernel
import NookRuntime
import NookSpec

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List what to check before trusting a rootfs: setuid/setgid files, world-writable paths, devices, packages.")
    @Flag(help: "Exit 1 when setuid files or device nodes are found.") var strict = false
    @Option(name: [.short, .customLong("format")], help: "text or json.") var format: String = "text"
    @Argument(help: "The unpacked root filesystem.") var rootfs: String

    func run() throws {
        guard ["text", "json"].contains(format) else {
            throw NookError("unknown --format '\(format)'", hint: "use text or json")
        }
        guard !rootfs.isEmpty else { throw NookError("the rootfs to audit is empty ('')", hint: "name an unpacked root filesystem, e.g. nook audit ./rootfs") }
        let audit = try RootfsAudit.scan(try HostPath.absolute(rootfs))
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
            print("system: \(audit.system ?? "unknown (no /etc/os-release)")")
            print("packages (\(audit.packages.count)) from \(audit.packageDatabase ?? "no package database found"): check them for known vulnerabilities")
            for p in audit.packages.prefix(500) { print("  \(p.name) \(p.version)") }
        }
        if strict && audit.hasFindings {
            writeStandardError("nook: audit --strict: \(audit.setuid.count) setuid file(s), \(audit.devices.count) device node(s)\n")
            Glibc.exit(1)
        }
    }
}
