/// One rlimit, as setrlimit(2) takes it (`RLIMIT_NOFILE` etc.).
package struct ResourceLimit: Sendable, Equatable {
    package var resource: Int32
    package var name: String
    package var soft: UInt64
    package var hard: UInt64

    package init(resource: Int32, name: String, soft: UInt64, hard: UInt64) {
        self.resource = resource
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}
