import FoundationEssentials
import NookCore
import NookSpec

/// What `nook run IMAGE` takes from the image's config, with the flags over
/// it, by podman's rules. Pure: no I/O; the CLI turns it into RunOptions.
package struct ImageRunSettings: Sendable, Equatable {
    /// PATH when the image sets none (podman's, and `nook run --rootfs`'s).
    package static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The flags that override the image's config.
    package struct Overrides: Sendable, Equatable {
        /// COMMAND... after the image: replaces Cmd.
        package var command: [String] = []
        /// `--entrypoint`: replaces Entrypoint and clears Cmd. A JSON array
        /// (`'["sh","-c"]'`) is the whole list; other text is one word; "" is none.
        package var entrypoint: String?
        /// `-w`.
        package var workdir: String?
        /// `-u`.
        package var user: String?
        /// `-P`: publish every exposed port on a host port the kernel picks.
        package var publishAll = false

        package init(command: [String] = [], entrypoint: String? = nil, workdir: String? = nil, user: String? = nil,
                    publishAll: Bool = false) {
            self.command = command
            self.entrypoint = entrypoint
            self.workdir = workdir
            self.user = user
            self.publishAll = publishAll
        }
    }

    package var args: [String]
    /// The image's Env (PATH added when it has none); -e and --env-file go over it.
    package var env: [String]
    package var workdir: String?
    /// The user to resolve in the image's root (names need its /etc/passwd); nil: root.
    package var user: String?
    /// Ports to publish ("80/tcp"): the image's ExposedPorts with -P, else none.
    package var publishedPorts: [String]
    /// The image's Labels and its StopSignal, for the spec's annotations.
    package var annotations: [String: String]

    package init(config: ImageConfiguration.RunDefaults?, overrides: Overrides, imageName: String) throws {
        let config = config ?? ImageConfiguration.RunDefaults()
        var entrypoint = config.entrypoint ?? []
        var cmd = config.cmd ?? []
        if let text = overrides.entrypoint {
            entrypoint = try Self.parseEntrypoint(text)
            cmd = []
        }
        if !overrides.command.isEmpty { cmd = overrides.command }
        args = entrypoint + cmd
        guard let first = args.first, !first.isEmpty else {
            throw NookError("image '\(imageName)' has no Entrypoint or Cmd, and no command was given",
                            hint: "name one after the image: nook run \(imageName) /bin/sh")
        }
        var env = config.env ?? []
        if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.insert("PATH=\(Self.defaultPath)", at: 0) }
        self.env = env
        let imageDir = config.workingDir.flatMap { $0.isEmpty ? nil : $0 }
        workdir = overrides.workdir ?? imageDir
        if let workdir, !workdir.hasPrefix("/") {
            throw NookError("working directory '\(workdir)' of image '\(imageName)' is not absolute",
                            hint: "give one with -w /PATH", kind: .invalidInput)
        }
        user = overrides.user ?? config.user.flatMap { $0.isEmpty ? nil : $0 }
        publishedPorts = overrides.publishAll ? (config.exposedPorts ?? [:]).keys.sorted() : []
        var annotations = config.labels ?? [:]
        if let signal = config.stopSignal, !signal.isEmpty { annotations[StopSignalAnnotation.key] = signal }
        self.annotations = annotations
    }

    /// podman's reading of `--entrypoint`.
    static func parseEntrypoint(_ text: String) throws -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("[") else { return [text] }
        // The decoder's words would not help: the error below says what is wanted.
        guard let list = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
            throw NookError("invalid --entrypoint '\(text)': it starts with '[' but is not a JSON array of strings",
                            hint: "--entrypoint '[\"/bin/sh\",\"-c\"]', or a single program: --entrypoint /bin/sh", kind: .invalidInput)
        }
        return list
    }
}
