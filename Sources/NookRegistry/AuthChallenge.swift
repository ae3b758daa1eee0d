/// One challenge of a `WWW-Authenticate` header (RFC 7235): what a registry
/// answering 401 wants. Registries send `Bearer realm="...",service="...",scope="..."`
/// (get a token from the realm) or `Basic realm="..."` (send the user and password).
package struct AuthChallenge: Equatable, Sendable {
    /// Lower-cased: "bearer", "basic".
    package var scheme: String
    /// Parameter names lower-cased, values unquoted.
    package var parameters: [String: String]

    package init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    package var realm: String? { parameters["realm"] }
    package var service: String? { parameters["service"] }
    package var scope: String? { parameters["scope"] }

    /// Every challenge in the header, in order; a malformed tail is dropped
    /// (the caller then says the registry asked for something it cannot read).
    package static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.utf8))
        var challenges: [AuthChallenge] = []
        while true {
            scanner.skip(whereSpaceOrComma: true)
            guard let scheme = scanner.token() else { break }
            var challenge = AuthChallenge(scheme: scheme.lowercased(), parameters: [:])
            // Parameters: name=value pairs separated by commas, until a token not followed by '='.
            while true {
                let mark = scanner.position
                scanner.skip(whereSpaceOrComma: true)
                guard let name = scanner.token() else { break }
                scanner.skip(whereSpaceOrComma: false)
                guard scanner.take(UInt8(ascii: "=")) else { scanner.position = mark; break }
                scanner.skip(whereSpaceOrComma: false)
                guard let value = scanner.quoted() ?? scanner.token() else { return challenges }
                challenge.parameters[name.lowercased()] = value
            }
            challenges.append(challenge)
        }
        return challenges
    }

    struct Scanner {
        let bytes: [UInt8]
        var position = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skip(whereSpaceOrComma comma: Bool) {
            while position < bytes.count, bytes[position] == 32 || bytes[position] == 9 || (comma && bytes[position] == 44) {
                position += 1
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// An RFC 7230 token (token68's '/', '+' and trailing '=' are not needed by any registry's challenge).
        mutating func token() -> String? {
            let start = position
            while position < bytes.count, Self.isTokenByte(bytes[position]) { position += 1 }
            return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
        }

        /// A quoted string with backslash escapes; nil if none starts here or it is not closed.
        mutating func quoted() -> String? {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
            var index = position + 1
            var value: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    value.append(bytes[index + 1])
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    position = index + 1
                    return String(decoding: value, as: UTF8.self)
                }
                value.append(byte)
                index += 1
            }
            return nil
        }

        static func isTokenByte(_ b: UInt8) -> Bool {
            if (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b) { return true }
            return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }
}
