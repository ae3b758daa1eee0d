import FoundationEssentials
import NookCore
import NookKernel
import NookSpec

/// Reads an OCI bundle's config.json (bounded, a regular file) and decodes it
/// with `SpecDecoder`, saying on stderr what this host cannot honour.
package enum BundleLoader {
    package static func load(bundle: String) throws -> Spec {
        guard HostPath.isDirectory(bundle) else {
            throw NookError("bundle '\(bundle)' is not a directory", hint: "a bundle is a directory with config.json and a rootfs")
        }
        let path = bundle + "/config.json"
        guard HostPath.exists(path) else {
            throw NookError("bundle '\(bundle)' has no config.json", hint: "write one with 'nook spec --rootless' in that directory")
        }
        return try decode(try HostPath.readBytes(path, as: .configJSON, label: path), source: path)
    }

    package static func decode(_ bytes: [UInt8], source: String) throws -> Spec {
        let spec = try SpecDecoder.decode(bytes, source: source)
        for warning in SpecDecoder.warnings(spec) { Tracer.standardError("nook: warning: \(warning)") }
        return spec
    }
}
