/// A Debian package version, `[epoch:]upstream[-revision]`, ordered by
/// dpkg's rules (lib/dpkg/version.c): epochs as numbers, then upstream and
/// revision each compared as alternating runs of non-digits (letters sort
/// before other characters, `~` before everything, even the end) and digits
/// (as numbers). Equal by that ordering means equal: `1.0` == `1.00`.
package struct DpkgVersion: Comparable, Sendable, CustomStringConvertible {
    package let epoch: Int
    package let upstream: [UInt8]
    package let revision: [UInt8]
    package let description: String

    /// nil for text dpkg would refuse (an empty or non-numeric epoch, an empty
    /// upstream part, or a space).
    package init?(_ text: String) {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty, !bytes.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a }) else { return nil }
        var epoch = 0
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            let digits = bytes[..<colon]
            guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
            epoch = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
            bytes.removeSubrange(...colon)
        }
        var revision: [UInt8] = []
        if let hyphen = bytes.lastIndex(of: UInt8(ascii: "-")) {
            revision = Array(bytes[(hyphen + 1)...])
            bytes.removeSubrange(hyphen...)
        }
        guard !bytes.isEmpty else { return nil }
        self.epoch = epoch
        upstream = bytes
        self.revision = revision
        description = text
    }

    package static func < (a: DpkgVersion, b: DpkgVersion) -> Bool { compare(a, b) < 0 }
    package static func == (a: DpkgVersion, b: DpkgVersion) -> Bool { compare(a, b) == 0 }

    /// -1, 0 or 1, as `dpkg --compare-versions` would say.
    package static func compare(_ a: DpkgVersion, _ b: DpkgVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let upstream = compareParts(a.upstream, b.upstream)
        return upstream != 0 ? upstream : compareParts(a.revision, b.revision)
    }

    /// dpkg's order of one character in a non-digit run: `~` first, then the
    /// end of the run, then letters, then everything else (by code).
    static func order(_ c: UInt8?) -> Int {
        guard let c else { return 0 }
        if c == UInt8(ascii: "~") { return -1 }
        if (48...57).contains(c) { return 0 }
        if (65...90).contains(c) || (97...122).contains(c) { return Int(c) }
        return Int(c) + 256
    }

    static func isDigit(_ c: UInt8) -> Bool { (48...57).contains(c) }

    static func compareParts(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0, j = 0
        while i < a.count || j < b.count {
            // A run of non-digits, character by character.
            while (i < a.count && !isDigit(a[i])) || (j < b.count && !isDigit(b[j])) {
                let x = order(i < a.count ? a[i] : nil), y = order(j < b.count ? b[j] : nil)
                if x != y { return x < y ? -1 : 1 }
                i += 1
                j += 1
            }
            // A run of digits, as a number: leading zeros skipped, then the longer run is larger.
            while i < a.count && a[i] == 48 { i += 1 }
            while j < b.count && b[j] == 48 { j += 1 }
            var firstDifference = 0
            while i < a.count && isDigit(a[i]) && j < b.count && isDigit(b[j]) {
                if firstDifference == 0 && a[i] != b[j] { firstDifference = a[i] < b[j] ? -1 : 1 }
                i += 1
                j += 1
            }
            if i < a.count && isDigit(a[i]) { return 1 }
            if j < b.count && isDigit(b[j]) { return -1 }
            if firstDifference != 0 { return firstDifference }
        }
        return 0
    }
}
