import NookCore

/// `ociVersion`: which versions of the runtime spec Nook reads.
///
/// Like crun, Nook takes 1.0.x to 1.2.x, with a pre-release or build suffix
/// (`runc spec` writes "1.0.2-dev"); anything else may mean fields Nook
/// would silently misread.
package enum OCIVersion {
    package static let supported = "1.0.x, 1.1.x or 1.2.x"

    package static func isSupported(_ text: String) -> Bool {
        let core = text.prefix { $0 != "-" && $0 != "+" }
        if core.count < text.count && core.count + 1 == text.count { return false } // "1.0.2-" has an empty suffix
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCIIDigitCharacter) }) else {
            return false
        }
        return parts[0] == "1" && ["0", "1", "2"].contains(parts[1])
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}
