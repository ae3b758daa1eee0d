/// The five capability sets of a process, as the bit masks capset(2) and
/// prctl(2) take.
package struct CapabilitySets: Sendable, Equatable {
    package var bounding: UInt64
    package var effective: UInt64
    package var permitted: UInt64
    package var inheritable: UInt64
    package var ambient: UInt64
    /// Ambient capabilities the spec asked for that are not both permitted and
    /// inheritable: the kernel refuses to raise them, so they are left out (shown under --trace).
    package var unraisableAmbient: UInt64 = 0

    package init(bounding: UInt64, effective: UInt64, permitted: UInt64, inheritable: UInt64, ambient: UInt64,
                unraisableAmbient: UInt64 = 0) {
        self.bounding = bounding
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable
        self.ambient = ambient
        self.unraisableAmbient = unraisableAmbient
    }
}
