import NookCore
import NookKernel
import NookRuntime
import NookSpec

/// `nook ps --filter KEY=VALUE`, as podman reads it: values of one key are
/// alternatives, different keys must all match. Unknown keys and statuses are errors.
struct ContainerFilter {
    static let statuses = ["created", "running", "paused", "restarting", "stopped"]
    private var byKey: [String: [String]] = [:]
    private var names: [NamePattern] = []

    /// `name=`: podman takes a regular expression; nook takes the part of one
    /// people type, a piece of the name, `^` and `$` anchoring it. A full regex
    /// can backtrack for ever on a crafted pattern; this cannot.
    struct NamePattern {
        var text: Substring
        var atStart: Bool
        var atEnd: Bool

        init(_ pattern: String) throws {
            var text = Substring(pattern)
            atStart = text.hasPrefix("^")
            if atStart { text = text.dropFirst() }
            atEnd = text.hasSuffix("$")
            if atEnd { text = text.dropLast() }
            guard text.allSatisfy({ $0.isLetter || $0.isNumber || "_.-".contains($0) }) else {
                throw NookError("--filter name=\(pattern): nook matches a piece of the name, anchored by ^ and $",
                                hint: "e.g. name=web, name=^web- or name=^web$ (names hold letters, digits, '_', '.' and '-')", kind: .invalidInput)
            }
            self.text = text
        }

        func matches(_ name: String) -> Bool {
            switch (atStart, atEnd) {
            case (true, true): name == text
            case (true, false): name.hasPrefix(text)
            case (false, true): name.hasSuffix(text)
            case (false, false): text.isEmpty || name.contains(text)
            }
        }
    }

    init(_ filters: [String]) throws {
        for filter in filters {
            let parts = filter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw NookError("--filter '\(filter)' is not KEY=VALUE", hint: "e.g. --filter status=running", kind: .invalidInput)
            }
            var (key, value) = (parts[0], parts[1])
            switch key {
            case "status":
                if value == "exited" { value = "stopped" } // podman's word for it
                guard Self.statuses.contains(value) else {
                    throw NookError("--filter status=\(value): unknown status", hint: "one of \(Self.statuses.joined(separator: ", "))", kind: .invalidInput)
                }
            case "name":
                names.append(try NamePattern(value))
            case "id":
                break
            default:
                throw NookError("unknown --filter key '\(key)'", hint: "use status=, name= or id=", kind: .invalidInput)
            }
            byKey[key, default: []].append(value)
        }
    }

    /// A status filter asks for stopped containers by itself (no -a needed).
    var namesStatus: Bool { byKey["status"] != nil }

    func matches(_ c: ContainerSummary) -> Bool {
        if let s = byKey["status"], !s.contains(c.status) { return false }
        if !names.isEmpty, !names.contains(where: { $0.matches(c.id) }) { return false }
        if let ids = byKey["id"], !ids.contains(where: { c.id.hasPrefix($0) }) { return false }
        return true
    }
}
