import Glibc

/// "12s ago", "3m ago", "2h ago", "4d ago": how long since a state file's
/// UTC timestamp ("2026-12-03T13:23:06Z"), for `nook ps`.
enum Age {
    static func since(_ timestamp: String, now: time_t = time(nil)) -> String {
        // The six numbers of YYYY-MM-DDTHH:MM:SSZ, as Runtime.timestamp() writes them.
        let numbers = timestamp.split(whereSeparator: { !$0.isNumber }).compactMap { Int32($0) }
        guard numbers.count == 6, timestamp.hasSuffix("Z") else { return "" }
        var t = tm()
        t.tm_year = numbers[0] - 1900
        t.tm_mon = numbers[1] - 1
        t.tm_mday = numbers[2]
        t.tm_hour = numbers[3]
        t.tm_min = numbers[4]
        t.tm_sec = numbers[5]
        let seconds = max(0, Int(now) - Int(timegm(&t)))
        switch seconds {
        case ..<120: return "\(seconds)s ago"
        case ..<7200: return "\(seconds / 60)m ago"
        case ..<172_800: return "\(seconds / 3600)h ago"
        default: return "\(seconds / 86400)d ago"
        }
    }
}

extension Age {
    /// podman's "2 years ago", "About an hour ago" (go-units' HumanDuration)
    /// since an RFC 3339 time ("2024-01-01T00:00:00Z", fractions and offsets
    /// allowed), as `podman images` shows CREATED. "" when it cannot be read.
    static func human(since timestamp: String, now: time_t = time(nil)) -> String {
        guard let then = seconds(rfc3339: timestamp) else { return "" }
        let d = Double(max(0, Int64(now) - then))
        let s = Int(d)
        let text: String
        if s < 1 { text = "Less than a second" } else if s == 1 { text = "1 second" } else if s < 60 { text = "\(s) seconds" }
        else if s / 60 == 1 { text = "About a minute" } else if s / 60 < 60 { text = "\(s / 60) minutes" }
        else {
            let hours = Int(d / 3600 + 0.5)
            if hours == 1 { text = "About an hour" } else if hours < 48 { text = "\(hours) hours" }
            else if hours < 24 * 7 * 2 { text = "\(hours / 24) days" } else if hours < 24 * 30 * 2 { text = "\(hours / 24 / 7) weeks" }
            else if hours < 24 * 365 * 2 { text = "\(hours / 24 / 30) months" } else { text = "\(s / 3600 / 24 / 365) years" }
        }
        return text + " ago"
    }

    /// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)".
    static func seconds(rfc3339 text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        let numbers = String(decoding: bytes[0..<19], as: UTF8.self).split(whereSeparator: { !$0.isNumber }).compactMap { Int32($0) }
        guard numbers.count == 6 else { return nil }
        var t = tm()
        (t.tm_year, t.tm_mon, t.tm_mday) = (numbers[0] - 1900, numbers[1] - 1, numbers[2])
        (t.tm_hour, t.tm_min, t.tm_sec) = (numbers[3], numbers[4], numbers[5])
        var rest = bytes[19...]
        if rest.first == UInt8(ascii: ".") { rest = rest.drop { $0 == UInt8(ascii: ".") || (48...57).contains($0) } }
        var offset: Int64 = 0
        if rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: "-") {
            let parts = String(decoding: rest.dropFirst(), as: UTF8.self).split(separator: ":").compactMap { Int64($0) }
            guard parts.count == 2 else { return nil }
            offset = (parts[0] * 3600 + parts[1] * 60) * (rest.first == UInt8(ascii: "-") ? -1 : 1)
        } else if rest.first != UInt8(ascii: "Z") && rest.first != UInt8(ascii: "z") {
            return nil
        }
        return Int64(timegm(&t)) - offset
    }
}
