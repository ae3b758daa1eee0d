import FoundationEssentials
import NookCore

/// config.json's bytes to a `Spec`, with errors that name the field. No I/O:
/// the runtime reads the file (BundleLoader) and says the warnings.
package enum SpecDecoder {
    package static func decode(_ bytes: [UInt8], source: String) throws -> Spec {
        let spec = try decodeJSON(Spec.self, from: bytes, what: source)
        guard !spec.ociVersion.isEmpty else { throw NookError("invalid \(source): ociVersion is empty", kind: .invalidInput) }
        guard OCIVersion.isSupported(spec.ociVersion) else {
            throw NookError("invalid \(source): field 'ociVersion' is '\(spec.ociVersion)': Nook supports \(OCIVersion.supported)", kind: .invalidInput)
        }
        try checkHooks(spec, source: source)
        // An empty path would be the bundle itself: nook would make /proc, /dev and /sys there.
        if spec.root?.path.isEmpty == true {
            throw NookError("invalid \(source): root.path is empty ('')", hint: "name the rootfs directory, relative to the bundle or absolute", kind: .invalidInput)
        }
        return spec
    }

    /// JSON bytes to `T`; an error says "invalid WHAT: " and names the field.
    package static func decodeJSON<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw NookError("invalid \(what): \(describe(error, decoding: T.self, from: bytes))", kind: .invalidInput)
        } catch {
            throw NookError("invalid \(what): \(error)", kind: .invalidInput)
        }
    }

    /// Fields a rootless runtime on this host cannot honour: said, not fatal.
    package static func warnings(_ spec: Spec) -> [String] {
        var lines: [String] = []
        if let profile = spec.process?.apparmorProfile, !profile.isEmpty {
            lines.append("process.apparmorProfile '\(profile)' ignored (no AppArmor support)")
        }
        if let label = spec.process?.selinuxLabel, !label.isEmpty {
            lines.append("process.selinuxLabel '\(label)' ignored (no SELinux support)")
        }
        return lines
    }

    /// The runtime spec: a hook's timeout, if set, is a number of seconds
    /// above zero; poll(2) takes milliseconds in an Int32.
    static let hookTimeouts = 1...Int(Int32.max / 1000)

    /// Each hook's path is absolute (the runtime spec says MUST: a relative
    /// one would be found through whatever PATH or directory nook runs in) and
    /// its timeout in range.
    static func checkHooks(_ spec: Spec, source: String) throws {
        for point in HookPoint.allCases {
            for (i, hook) in spec.hooks(at: point).enumerated() {
                guard hook.path.hasPrefix("/") else {
                    throw NookError("invalid \(source): field 'hooks.\(point.rawValue)[\(i)].path' is '\(hook.path)': it must be an absolute path",
                                    hint: "give the hook's program by its full path, e.g. /usr/bin/\(hook.path.split(separator: "/").last ?? "hook")", kind: .invalidInput)
                }
                if let t = hook.timeout, !hookTimeouts.contains(t) {
                    throw NookError("invalid \(source): field 'hooks.\(point.rawValue)[\(i)].timeout' is \(t): "
                                    + "a number of seconds from \(hookTimeouts.lowerBound) to \(hookTimeouts.upperBound)", kind: .invalidInput)
                }
            }
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        let parts = codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }
        let joined = parts.joined()
        return joined.hasPrefix(".") ? String(joined.dropFirst()) : joined
    }

    /// As `describe(_:)`, but a number too large or small for its field
    /// (which JSONDecoder calls "not valid JSON", naming no field) is found
    /// in `bytes` and named with its range.
    package static func describe<T: Decodable>(_ error: DecodingError, decoding type: T.Type, from bytes: [UInt8]) -> String {
        if case .dataCorrupted(let ctx) = error, ctx.codingPath.isEmpty,
           let found = JSONNumberRange.misfit(T.self, in: bytes) {
            return found
        }
        return describe(error)
    }

    package static func describe(_ error: DecodingError) -> String {
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
