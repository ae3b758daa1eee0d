import Glibc

/// An image config's `created`, RFC 3339 as registries and builders write it
/// ("2024-01-01T00:00:00Z", "2023-06-10T12:34:56.123456789+02:00").
package struct CreatedTime: Sendable, Equatable {
    /// Seconds since the epoch, UTC.
    package let seconds: Int

    package init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == 0x20 else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            guard range.upperBound <= bytes.count, bytes[range].allSatisfy({ (48...57).contains($0) }) else { return nil }
            return bytes[range].reduce(0) { $0 * 10 + Int32($1 - 48) }
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var p = 19
        if p < bytes.count && bytes[p] == UInt8(ascii: ".") {
            p += 1
            while p < bytes.count && (48...57).contains(bytes[p]) { p += 1 }
        }
        var offset = 0
        if p < bytes.count && (bytes[p] == UInt8(ascii: "Z") || bytes[p] == UInt8(ascii: "z")) && p + 1 == bytes.count {
        } else if p + 6 == bytes.count, bytes[p] == UInt8(ascii: "+") || bytes[p] == UInt8(ascii: "-"),
                  let h = number((p + 1)..<(p + 3)), let m = number((p + 4)..<(p + 6)) {
            offset = (Int(h) * 3600 + Int(m) * 60) * (bytes[p] == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return nil
        }
        var t = tm()
        t.tm_year = year - 1900
        t.tm_mon = month - 1
        t.tm_mday = day
        t.tm_hour = hour
        t.tm_min = minute
        t.tm_sec = second
        seconds = Int(timegm(&t)) - offset
    }

    /// "2024-01-01": the UTC day.
    package var day: String {
        var time = time_t(seconds)
        var t = tm()
        gmtime_r(&time, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))"
    }

    /// Whole days from this time to `now` (0 when it is in the future).
    package func days(before now: Int) -> Int { max(0, (now - seconds) / 86400) }
}
