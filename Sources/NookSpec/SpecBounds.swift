import NookCore

/// How many entries a spec's lists may hold. Each mount, masked or read-only
/// path and device is a mount in the child, each hook a process: 20,000 of
/// them kept `nook create` busy past any reasonable wait (found by the
/// config.json fuzzer). Real containers have tens; a bound says so at once.
package enum SpecBounds {
    package static let maxEntries = 4096

    package static func check(_ spec: Spec) throws {
        let hooks = spec.hooks
        let lists: [(String, Int?)] = [
            ("mounts", spec.mounts?.count), ("linux.maskedPaths", spec.linux?.maskedPaths?.count),
            ("linux.readonlyPaths", spec.linux?.readonlyPaths?.count), ("linux.devices", spec.linux?.devices?.count),
            ("hooks.prestart", hooks?.prestart?.count), ("hooks.createRuntime", hooks?.createRuntime?.count),
            ("hooks.createContainer", hooks?.createContainer?.count), ("hooks.startContainer", hooks?.startContainer?.count),
            ("hooks.poststart", hooks?.poststart?.count), ("hooks.poststop", hooks?.poststop?.count),
        ]
        for case let (field, count?) in lists where count > maxEntries {
            throw NookError("\(field) has \(count) entries: Nook takes at most \(maxEntries)",
                            hint: "a container needs tens; for -v and --tmpfs, mount a parent directory instead of many children")
        }
    }
}
