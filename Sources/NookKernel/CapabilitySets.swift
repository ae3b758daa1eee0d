/// The five capability sets of a process, as the bit masks capset(2) and
/// prctl(2) take.
public struct CapabilitySets: Sendable, Equatable {
    public var bounding: UInt64
    public var effective: UInt64
    public var permitted: UInt64
    public var inheritable: UInt64
    public var ambient: UInt64
    /// Ambient capabilities the spec asked for that are not both permitted and
    /// inheritable: the kernel refuses to raise them, so they are left out (shown under --trace).
    public var unraisableAmbient: UInt64 = 0

    public init(bounding: UInt64, effective: UInt64, permitted: UInt64, inheritable: UInt64, ambient: UInt64,
                unraisableAmbient: UInt64 = 0) {
        self.bounding = bounding
        self.effective = effective
        self.permitted = permitted
        self.inheritable = inheritable
        self.ambient = ambient
        self.unraisableAmbient = unraisableAmbient
    }
}
