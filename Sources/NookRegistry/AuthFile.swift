#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import NookCore
import NookKernel

/// podman's and docker's credential files (`auth.json`, `~/.docker/config.json`):
/// `{"auths": {"REGISTRY[/PATH]": {"auth": "base64(user:password)"}}}`.
/// Credential helpers (`credsStore`, `credHelpers`) are not run.
package struct AuthFile: Sendable {
    package var path: String
    /// Keys normalised (no scheme, docker.io for Docker Hub's old names) -> "auth" values.
    var entries: [String: String]

    static let limit = FileKind(name: "an auth file", limit: 1 << 20)

    /// Reads `path`, bounded; nil if it does not exist and `mustExist` is false.
    package static func read(_ path: String, mustExist: Bool) throws -> AuthFile? {
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT && !mustExist { return nil }
            throw NookError.sys("auth file '\(path)'", path: path, errno: errno,
                                hint: "name an existing file (podman login --authfile writes one)")
        }
        let bytes = try HostPath.readBytes(path, as: limit, label: "auth file '\(path)'")
        return try AuthFile(path: path, json: bytes)
    }

    package init(path: String, json bytes: [UInt8]) throws {
        struct Shape: Decodable {
            struct Entry: Decodable { var auth: String? }
            var auths: [String: Entry]?
        }
        let shape: Shape
        do { shape = try JSONDecoder().decode(Shape.self, from: Data(bytes)) } catch {
            throw NookError("auth file '\(path)' is not the JSON of an auth file ({\"auths\": {...}})",
                            hint: "fix or remove it, or log in again with podman login")
        }
        self.path = path
        entries = [:]
        for (key, entry) in shape.auths ?? [:] {
            if let auth = entry.auth, !auth.isEmpty { entries[Self.normalisedKey(key)] = auth }
        }
    }

    /// `https://index.docker.io/v1/` -> `docker.io`; `http://host:5000/x` -> `host:5000` (docker's old keys
    /// name a URL: only its host counts); `quay.io/org` stays.
    static func normalisedKey(_ key: String) -> String {
        var text = Substring(key)
        var hadScheme = false
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) {
            text = text.dropFirst(scheme.count)
            hadScheme = true
        }
        if hadScheme, let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        while text.hasSuffix("/") { text = text.dropLast() }
        var parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        if let host = parts.first, ["index.docker.io", "registry-1.docker.io"].contains(host) { parts[0] = "docker.io" }
        return parts.joined(separator: "/")
    }

    /// The entry for `registry/repository`, the most specific key first
    /// (`reg/a/b`, `reg/a`, `reg`), as podman looks them up. Throws on an entry that is not base64 of user:password.
    package func credentials(registry: String, repository: String) throws -> RegistryCredentials? {
        var components = repository.split(separator: "/").map(String.init)
        var keys: [String] = []
        while !components.isEmpty {
            keys.append(([registry] + components).joined(separator: "/"))
            components.removeLast()
        }
        keys.append(registry)
        for key in keys {
            guard let auth = entries[key] else { continue }
            guard let credentials = RegistryCredentials(authField: auth) else {
                throw NookError("auth file '\(path)': the entry for \(key) is not base64 of USER:PASSWORD",
                                hint: "log in again with podman login, or fix the entry")
            }
            return credentials
        }
        return nil
    }

    /// Where podman looks, in its order: `--authfile` or `$REGISTRY_AUTH_FILE` alone if given;
    /// else `$XDG_RUNTIME_DIR/containers/auth.json`, `$XDG_CONFIG_HOME/containers/auth.json`
    /// (`~/.config`), `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`).
    package static func searchPath(explicit: String?, environment: [String: String]) -> (paths: [String], explicit: Bool) {
        if let explicit { return ([explicit], true) }
        if let file = environment["REGISTRY_AUTH_FILE"], !file.isEmpty { return ([file], true) }
        var paths: [String] = []
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") { paths.append(runtime + "/containers/auth.json") }
        let home = environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") {
            paths.append(config + "/containers/auth.json")
        } else if let home {
            paths.append(home + "/.config/containers/auth.json")
        }
        if let docker = environment["DOCKER_CONFIG"], docker.hasPrefix("/") {
            paths.append(docker + "/config.json")
        } else if let home {
            paths.append(home + "/.docker/config.json")
        }
        return (paths, false)
    }

    /// The first credentials any file on the search path has for this repository.
    package static func lookup(registry: String, repository: String, explicit: String?,
                              environment: [String: String]) throws -> RegistryCredentials? {
        let search = searchPath(explicit: explicit, environment: environment)
        for path in search.paths {
            guard let file = try read(path, mustExist: search.explicit) else { continue }
            if let found = try file.credentials(registry: registry, repository: repository) { return found }
        }
        return nil
    }
}
