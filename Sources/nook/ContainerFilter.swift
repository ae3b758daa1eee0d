import NookKit

/// `nook ps --filter KEY=VALUE`, as podman reads it: values of one key are
/// alternatives, different keys must all match. Unknown keys and statuses are errors.
struct ContainerFilter {
    static let statuses = ["created", "running", "paused", "stopped"]
    private var byKey: [String: [String]] = [:]
    private var names: [Regex<AnyRegexOutput>] = []

    init(_ filters: [String]) throws {
        for filter in filters {
            let parts = filter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw NookError("--filter '\(filter)' is not KEY=VALUE", hint: "e.g. --filter status=running")
            }
            var (key, value) = (parts[0], parts[1])
            switch key {
            case "status":
                if value == "exited" { value = "stopped" } // podman's word for it
                guard Self.statuses.contains(value) else {
                    throw NookError("--filter status=\(value): unknown status", hint: "one of \(Self.statuses.joined(separator: ", "))")
                }
            case "name":
                do { names.append(try Regex(value)) } catch {
                    throw NookError("--filter name=\(value): not a regular expression (\(error))")
                }
            case "id":
                break
            default:
                throw NookError("unknown --filter key '\(key)'", hint: "use status=, name= or id=")
            }
            byKey[key, default: []].append(value)
        }
    }

    /// A status filter asks for stopped containers by itself (no -a needed).
    var namesStatus: Bool { byKey["status"] != nil }

    func matches(_ c: ContainerSummary) -> Bool {
        if let s = byKey["status"], !s.contains(c.status) { return false }
        if !names.isEmpty, !names.contains(where: { c.id.contains($0) }) { return false }
        if let ids = byKey["id"], !ids.contains(where: { c.id.hasPrefix($0) }) { return false }
        return true
    }
}
