/// Where a user's image store is: `$XDG_DATA_HOME/nook`, else
/// `$HOME/.local/share/nook` (podman's rule for its storage). In NookCore
/// because the runtime needs it too: it removes a container's writable layer
/// only when that layer lies in this store's `containers/` (a spec's
/// annotation alone could name any directory the user can write).
package enum ImageStoreLocation {
    package static func root(environment: [String: String]) throws -> String {
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") { return data + "/nook" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.local/share/nook" }
        throw NookError("no place for the image store: neither XDG_DATA_HOME nor HOME is an absolute path",
                        hint: "set HOME, or XDG_DATA_HOME=/some/dir")
    }

    /// Where containers' writable layers are: one directory each, directly in it.
    package static func containers(environment: [String: String]) throws -> String {
        try root(environment: environment) + "/containers"
    }
}
