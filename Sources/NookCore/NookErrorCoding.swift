import SystemPackage

/// A `NookError` is Codable, kind and all: a detached container's monitor is
/// another process, and the caller of `runDetached` must be able to match
/// what failed there (`DetachedMonitor.swift` sends it over its pipe as JSON).
extension NookError.Subject: Codable {}

extension NookError.Kind: Codable {
    private enum Key: String, CodingKey {
        case kind, step, path, errno, subject, name, container, state, command, expected, actual, expectedSize, actualSize, url
    }

    /// The kind as JSON: `{"kind": "systemCall", "step": ..., "errno": 13}`.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case let .systemCall(step, path, errno):
            try c.encode("systemCall", forKey: .kind)
            try c.encode(step, forKey: .step)
            try c.encodeIfPresent(path, forKey: .path)
            try c.encode(errno.rawValue, forKey: .errno)
        case .invalidInput: try c.encode("invalidInput", forKey: .kind)
        case let .notFound(subject, name), let .alreadyExists(subject, name):
            try c.encode(isNotFound ? "notFound" : "alreadyExists", forKey: .kind)
            try c.encode(subject, forKey: .subject)
            try c.encode(name, forKey: .name)
        case let .wrongState(container, state):
            try c.encode("wrongState", forKey: .kind)
            try c.encode(container, forKey: .container)
            try c.encode(state, forKey: .state)
        case let .commandNotFound(command):
            try c.encode("commandNotFound", forKey: .kind)
            try c.encode(command, forKey: .command)
        case let .notExecutable(command, errno):
            try c.encode("notExecutable", forKey: .kind)
            try c.encode(command, forKey: .command)
            try c.encode(errno.rawValue, forKey: .errno)
        case let .digestMismatch(expected, actual):
            try c.encode("digestMismatch", forKey: .kind)
            try c.encode(expected, forKey: .expected)
            try c.encode(actual, forKey: .actual)
        case let .sizeMismatch(expected, actual):
            try c.encode("sizeMismatch", forKey: .kind)
            try c.encode(expected, forKey: .expectedSize)
            try c.encode(actual, forKey: .actualSize)
        case .timedOut: try c.encode("timedOut", forKey: .kind)
        case let .connectionFailed(url):
            try c.encode("connectionFailed", forKey: .kind)
            try c.encode(url, forKey: .url)
        case .unsupported: try c.encode("unsupported", forKey: .kind)
        case .other: try c.encode("other", forKey: .kind)
        }
    }

    /// A kind `encode(to:)` wrote.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func text(_ key: Key) throws -> String { try c.decode(String.self, forKey: key) }
        func errno() throws -> Errno { Errno(rawValue: try c.decode(Int32.self, forKey: .errno)) }
        switch try text(.kind) {
        case "systemCall": self = .systemCall(step: try text(.step), path: try c.decodeIfPresent(String.self, forKey: .path), errno: try errno())
        case "invalidInput": self = .invalidInput
        case "notFound": self = .notFound(try c.decode(NookError.Subject.self, forKey: .subject), name: try text(.name))
        case "alreadyExists": self = .alreadyExists(try c.decode(NookError.Subject.self, forKey: .subject), name: try text(.name))
        case "wrongState": self = .wrongState(container: try text(.container), state: try text(.state))
        case "commandNotFound": self = .commandNotFound(try text(.command))
        case "notExecutable": self = .notExecutable(try text(.command), errno: try errno())
        case "digestMismatch": self = .digestMismatch(expected: try text(.expected), actual: try text(.actual))
        case "sizeMismatch": self = .sizeMismatch(expected: try c.decode(Int64.self, forKey: .expectedSize),
                                                  actual: try c.decode(Int64.self, forKey: .actualSize))
        case "timedOut": self = .timedOut
        case "connectionFailed": self = .connectionFailed(url: try text(.url))
        case "unsupported": self = .unsupported
        default: self = .other  // a kind this version does not know: the message still says it
        }
    }

    private var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }
}
