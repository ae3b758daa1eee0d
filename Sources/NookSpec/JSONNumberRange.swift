import FoundationEssentials
import NookCore

/// JSONDecoder reports a number that does not fit its field (a uid of
/// 99999999999, a negative size, 1.5 for a count) as "The given data was not
/// valid JSON", with no field. This finds the field with JSONDecoder itself:
/// numbers replaced by 0 fit every numeric field, so the culprit is the number
/// that, kept alone, still fails (found by halving the set of kept numbers);
/// written as a string it then gives a type mismatch naming its path and type.
enum JSONNumberRange {
    /// "field 'process.user.uid': 99999999999 is not a whole number from 0 to
    /// 4294967295", or nil when the bytes are not valid JSON after all.
    static func misfit<T: Decodable>(_ type: T.Type, in bytes: [UInt8]) -> String? {
        let tokens = numberTokens(bytes)
        func fails(keeping kept: Range<Int>) -> Bool {
            isNumberMisfit(T.self, replacing(tokens, in: bytes, keeping: kept, culpritAsString: nil))
        }
        var candidates = 0..<tokens.count
        // Valid JSON once every number is 0? Then a number is to blame.
        guard !candidates.isEmpty, fails(keeping: candidates), !fails(keeping: 0..<0) else { return nil }
        while candidates.count > 1 {
            let half = candidates.lowerBound + candidates.count / 2
            if fails(keeping: candidates.lowerBound..<half) {
                candidates = candidates.lowerBound..<half
            } else if fails(keeping: half..<candidates.upperBound) {
                candidates = half..<candidates.upperBound
            } else {
                return nil
            }
        }
        let culprit = candidates.lowerBound
        let probe = replacing(tokens, in: bytes, keeping: 0..<0, culpritAsString: culprit)
        do {
            _ = try JSONDecoder().decode(T.self, from: Data(probe))
        } catch DecodingError.typeMismatch(let fieldType, let ctx) {
            var text = String(decoding: bytes[tokens[culprit]], as: UTF8.self)
            if text.count > 40 { text = text.prefix(40) + "..." }
            return "field '\(SpecDecoder.path(ctx.codingPath))': \(text) is not \(describe(fieldType))"
        } catch {}
        return nil
    }

    /// "a whole number from 0 to 4294967295".
    static func describe(_ type: Any.Type) -> String {
        func range<I: FixedWidthInteger>(_: I.Type) -> String { "a whole number from \(I.min) to \(I.max)" }
        if let integer = type as? any FixedWidthInteger.Type { return range(integer) }
        return "a \(type)"
    }

    /// The error JSONDecoder gives for a number that does not fit.
    static func isNumberMisfit<T: Decodable>(_: T.Type, _ bytes: [UInt8]) -> Bool {
        do {
            _ = try JSONDecoder().decode(T.self, from: Data(bytes))
            return false
        } catch DecodingError.dataCorrupted(let ctx) {
            return ctx.codingPath.isEmpty
        } catch {
            return false
        }
    }

    /// The bytes with every number outside `kept` written as 0, and the
    /// culprit (if any) as a string.
    static func replacing(_ tokens: [Range<Int>], in bytes: [UInt8], keeping kept: Range<Int>, culpritAsString: Int?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var last = 0
        for (i, token) in tokens.enumerated() where !kept.contains(i) {
            out.append(contentsOf: bytes[last..<token.lowerBound])
            out.append(contentsOf: i == culpritAsString ? Array("\"?\"".utf8) : [UInt8(ascii: "0")])
            last = token.upperBound
        }
        out.append(contentsOf: bytes[last...])
        return out
    }

    /// Where the numbers are: runs of -+.eE and digits outside strings.
    static func numberTokens(_ bytes: [UInt8]) -> [Range<Int>] {
        var tokens: [Range<Int>] = []
        var i = 0
        var inString = false
        func isNumberByte(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
        }
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == UInt8(ascii: "\"") { inString = false }
                i += 1
            } else if b == UInt8(ascii: "\"") {
                inString = true
                i += 1
            } else if b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) {
                let start = i
                while i < bytes.count && isNumberByte(bytes[i]) { i += 1 }
                tokens.append(start..<i)
            } else {
                i += 1
            }
        }
        return tokens
    }
}
