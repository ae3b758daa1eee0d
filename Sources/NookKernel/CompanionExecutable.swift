import Glibc

/// A program of Nook's found the way its parts find each other: the one an
/// environment variable names, else the one beside this process's own file
/// (how SwiftPM and Scripts/bootstrap.sh lay them out, so both come from one
/// build), else one in PATH (an installed copy, maybe another version: last).
/// The monitor (`nook`, for a library caller) and `nook-registry` (for `nook
/// pull`) are found so.
package enum CompanionExecutable {
    /// Where to look for `name`, in order.
    package static func candidates(_ name: String, overrideVariable: String, environment: [String: String]) -> [String] {
        var found: [String] = []
        if let explicit = environment[overrideVariable], !explicit.isEmpty { found.append(explicit) }
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        // A sealed or deleted executable has no directory to look in.
        if n > 0, buffer[0] == UInt8(ascii: "/") {
            let exe = String(decoding: buffer.prefix(n), as: UTF8.self)
            if !exe.hasSuffix(" (deleted)"), let slash = exe.lastIndex(of: "/") {
                found.append(String(exe[..<slash]) + "/" + name)
            }
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        found += path.split(separator: ":").filter { $0.hasPrefix("/") }.map { "\($0)/\(name)" }
        return found
    }

    /// The first candidate that is an executable file, if any.
    package static func find(_ name: String, overrideVariable: String, environment: [String: String]) -> String? {
        candidates(name, overrideVariable: overrideVariable, environment: environment)
            .first { access($0, X_OK) == 0 && !HostPath.isDirectory($0) }
    }
}
