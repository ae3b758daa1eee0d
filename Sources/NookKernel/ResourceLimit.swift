/// One rlimit, as setrlimit(2) takes it (`RLIMIT_NOFILE` etc.).
public struct ResourceLimit: Sendable, Equatable {
    public var resource: Int32
    public var name: String
    public var soft: UInt64
    public var hard: UInt64

    public init(resource: Int32, name: String, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}
