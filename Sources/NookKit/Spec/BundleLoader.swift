#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads an OCI bundle's config.json, with errors that name the field.
public enum BundleLoader {
    public static func load(bundle: String) throws -> Spec {
        guard HostPath.isDirectory(bundle) else {
            throw NookError("bundle '\(bundle)' is not a directory", hint: "a bundle is a directory with config.json and a rootfs")
        }
        let path = bundle + "/config.json"
        guard HostPath.exists(path) else {
            throw NookError("bundle '\(bundle)' has no config.json", hint: "write one with 'nook spec --rootless' in that directory")
        }
        return try decode(try HostPath.readBytes(path), source: path)
    }

    public static func decode(_ bytes: [UInt8], source: String) throws -> Spec {
        let spec: Spec
        do {
            spec = try JSONDecoder().decode(Spec.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw NookError("invalid \(source): \(describe(error))")
        } catch {
            throw NookError("invalid \(source): \(error)")
        }
        guard !spec.ociVersion.isEmpty else { throw NookError("invalid \(source): ociVersion is empty") }
        // Fields a rootless runtime on this host cannot honour: said, not fatal.
        if let profile = spec.process?.apparmorProfile, !profile.isEmpty {
            Tracer.standardError("nook: warning: process.apparmorProfile '\(profile)' ignored (no AppArmor support)")
        }
        if let label = spec.process?.selinuxLabel, !label.isEmpty {
            Tracer.standardError("nook: warning: process.selinuxLabel '\(label)' ignored (no SELinux support)")
        }
        return spec
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        let parts = codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }
        let joined = parts.joined()
        return joined.hasPrefix(".") ? String(joined.dropFirst()) : joined
    }

    public static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let ctx):
            let at = path(ctx.codingPath + [key])
            return "missing field '\(at)'"
        case .typeMismatch(let type, let ctx):
            return "field '\(path(ctx.codingPath))' has the wrong type (expected \(type))"
        case .valueNotFound(let type, let ctx):
            return "field '\(path(ctx.codingPath))' is null (expected \(type))"
        case .dataCorrupted(let ctx):
            let at = path(ctx.codingPath)
            return at.isEmpty ? "not valid JSON: \(ctx.debugDescription)" : "field '\(at)': \(ctx.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
