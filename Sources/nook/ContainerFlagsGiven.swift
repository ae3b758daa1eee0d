import ArgumentParser

extension ContainerFlags {
    /// The flags given on the command line (those whose value is not the
    /// default), as `--long-name`s: runc's form of `nook create` takes only
    /// a few of them, and an image flag must not be dropped silently.
    func given() throws -> [String] {
        let defaults = try ContainerFlags.parse([])
        let values = Mirror(reflecting: self).children, defaultValues = Mirror(reflecting: defaults).children
        return zip(values, defaultValues).compactMap { value, standard in
            guard let label = value.label, String(describing: value.value) != String(describing: standard.value) else { return nil }
            return Self.optionName(label)
        }
    }

    /// `_publishAll` → `--publish-all`.
    static func optionName(_ label: String) -> String {
        let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
        if name == "remove" { return "--rm" }
        if name == "preserveFDs" { return "--preserve-fds" }
        return "--" + name.map { $0.isUppercase ? "-" + $0.lowercased() : String($0) }.joined()
    }
}
