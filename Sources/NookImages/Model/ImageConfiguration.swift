/// An image's configuration blob (OCI image config; Docker's has the same
/// fields Nook uses, with the same capitalised names under `config`).
package struct ImageConfiguration: Codable, Sendable {
    package var created: String?
    package var author: String?
    package var architecture: String?
    package var os: String?
    package var variant: String?
    package var config: RunDefaults?
    package var rootfs: RootFS
    package var history: [History]?

    package init(architecture: String, os: String, config: RunDefaults?, rootfs: RootFS, created: String? = nil, history: [History]? = nil) {
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
        self.created = created
        self.history = history
    }

    /// What `nook run IMAGE` starts from; flags override each field.
    package struct RunDefaults: Codable, Sendable {
        package var user: String?
        package var exposedPorts: [String: EmptyObject]?
        package var env: [String]?
        package var entrypoint: [String]?
        package var cmd: [String]?
        package var volumes: [String: EmptyObject]?
        package var workingDir: String?
        package var labels: [String: String]?
        package var stopSignal: String?

        enum CodingKeys: String, CodingKey {
            case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint", cmd = "Cmd"
            case volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels", stopSignal = "StopSignal"
        }

        package init() {}
    }

    /// The layers' uncompressed digests, in order, bottom first.
    package struct RootFS: Codable, Sendable {
        package var type: String
        package var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }

        package init(diffIDs: [Digest]) {
            self.type = "layers"
            self.diffIDs = diffIDs
        }
    }

    package struct History: Codable, Sendable {
        package var created: String?
        package var createdBy: String?
        package var comment: String?
        package var emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case created, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }
    }
}

/// `{}`: the value of an ExposedPorts or Volumes entry.
package struct EmptyObject: Codable, Sendable, Hashable {
    package init() {}
}
