/// Text a container controls (its command line, from the spec or from
/// /proc/PID/cmdline), made safe for the user's terminal: control characters
/// would move the cursor, recolour the screen or draw a fake row of `nook ps`.
/// They are shown escaped, as `\x1b`, `\n`, `\u{202e}`; a backslash as `\\`,
/// so an escape and the same characters typed literally stay distinct.
package enum PrintableText {
    /// `escaped`, cut after `limit` characters: a name from an archive can be
    /// kilobytes long, and one error line should stay readable.
    package static func escaped(_ text: String, limit: Int) -> String {
        let count = text.unicodeScalars.count
        guard count > limit else { return escaped(text) }
        return escaped(String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit)))) + "...(\(count) characters)"
    }

    /// The longest entry name an image error quotes whole.
    package static let nameLimit = 200

    package static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if isInvisible(scalar) {
                    out += "\\u{" + hex(scalar.value, width: 4) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Format characters (bidirectional overrides can reorder what follows),
    /// line and paragraph separators.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator, .control: return true
        default: return false
        }
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
