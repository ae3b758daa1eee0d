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

    /// `_publishAll` → `--publish-all`, `cpusetCPUs` → `--cpuset-cpus`: a dash
    /// where a capital follows a small letter (a run of capitals is one word).
    static func optionName(_ label: String) -> String {
        let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
        if name == "remove" { return "--rm" }
        var option = "--", previous: Character = "-"
        for c in name {
            option += (c.isUppercase && previous.isLowercase ? "-" : "") + c.lowercased()
            previous = c
        }
        return option
    }
}
