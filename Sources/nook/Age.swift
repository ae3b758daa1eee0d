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
