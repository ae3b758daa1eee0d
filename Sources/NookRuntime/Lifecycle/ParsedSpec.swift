import NookKernel
import NookSpec

/// The spec's fields that are text to parse (mount options, rlimit and
/// capability names), in
/// the typed form the plan takes. From a config.json (a bundle, or the record
/// a `run -d` monitor, a restart or `nook start` reads) they are parsed here,
/// once; `nook run --rootfs` builds them from its flags' typed values
/// (`RunOptions.make`), so the strings it writes into the spec are only the
/// record, never read back in the same run.
package struct ParsedSpec: Sendable, Equatable {
    package var mounts: [ContainerMount]
    package var rlimits: [ResourceLimit]
    /// `process.capabilities` as masks; nil: the spec gives none.
    package var capabilities: CapabilitySets?

    package init(mounts: [ContainerMount], rlimits: [ResourceLimit], capabilities: CapabilitySets?) {
        self.mounts = mounts
        self.rlimits = rlimits
        self.capabilities = capabilities
    }

    package init(_ spec: Spec) throws {
        self.init(mounts: (spec.mounts ?? []).map(ContainerMount.init(oci:)),
                  rlimits: try (spec.process?.rlimits ?? []).map(ResourceLimit.init),
                  capabilities: try spec.process?.capabilities.map(CapabilitySets.init))
    }
}
