#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import NookCore

/// A user name and password for one registry: from `--creds USER[:PASS]` or an auth file.
package struct RegistryCredentials: Equatable, Sendable {
    package var username: String
    package var password: String

    package init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `--creds USER:PASS`, or `--creds USER` and the password asked on the terminal (as podman does).
    package init(parsingFlag text: String, askPassword: () throws -> String = RegistryCredentials.askPassword) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let user = parts.first, !user.isEmpty else {
            throw NookError("--creds needs a user name before the ':'", hint: "write --creds USER:PASSWORD, or --creds USER to be asked", kind: .invalidInput)
        }
        username = String(user)
        password = parts.count == 2 ? String(parts[1]) : try askPassword()
    }

    /// `Authorization: Basic base64(user:password)`.
    package var basicAuthorization: String {
        "Basic " + Data((username + ":" + password).utf8).base64EncodedString()
    }

    /// The value of an auth file's "auth": base64 of "user:password".
    package init?(authField: String) {
        guard let data = Data(base64Encoded: authField),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        username = String(text[..<colon])
        password = String(text[text.index(after: colon)...])
    }

    /// Reads a password from the terminal without echo; refuses when there is none.
    package static func askPassword() throws -> String {
        guard isatty(0) == 1 else {
            throw NookError("--creds names a user but no password, and there is no terminal to ask it on",
                            hint: "write --creds USER:PASSWORD, or use an auth file (--authfile)", kind: .invalidInput)
        }
        guard let line = getpass("Password: ") else { throw NookError.sys("read the password", errno: errno) }
        return String(cString: line)
    }
}
