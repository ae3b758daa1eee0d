import NookCore
import NookKernel
import NookRuntime
import NookSpec

/// `--format` as podman takes it: `table`, `json`, or a template in the subset
/// of Go's syntax people type: `{{.Field}}` between literal text, `\t` and `\n`
/// as tab and newline, and a leading `table ` to print aligned columns under
/// headers. Anything else, and any unknown field, is an error naming what is
/// allowed: a format that is not understood must not fall back to the table.
enum OutputFormat: Equatable {
    case table
    case json
    /// Literal text and field names, in order; `aligned` for `table {{...}}`.
    case template([Piece], aligned: Bool)

    enum Piece: Equatable {
        case text(String)
        case field(String)
    }

    /// `fields`: the names a template may use, in the order `--help` lists them.
    static func parse(_ text: String, fields: [String], option: String = "--format") throws -> OutputFormat {
        switch text {
        case "table": return .table
        case "json": return .json
        default: break
        }
        var body = Substring(text)
        var aligned = false
        if body.hasPrefix("table ") { aligned = true; body = body.dropFirst(6) }
        guard body.contains("{{") else {
            throw NookError("unknown \(option) '\(text)'",
                            hint: "use table, json, or a template such as '{{.\(fields[0])}}' (fields: \(fields.joined(separator: ", ")))", kind: .invalidInput)
        }
        var pieces: [Piece] = []
        while let open = body.firstRange(of: "{{") {
            if open.lowerBound > body.startIndex { pieces.append(.text(unescaped(body[..<open.lowerBound]))) }
            guard let close = body[open.upperBound...].firstRange(of: "}}") else {
                throw NookError("\(option) '\(text)': '{{' without '}}'")
            }
            var inside = body[open.upperBound..<close.lowerBound]
            while inside.first == " " { inside.removeFirst() }
            while inside.last == " " { inside.removeLast() }
            guard inside.hasPrefix("."), let name = fields.first(where: { $0 == inside.dropFirst() }) else {
                throw NookError("\(option) '\(text)': unknown field '\(inside)'",
                                hint: "fields: " + fields.map { "." + $0 }.joined(separator: ", "))
            }
            pieces.append(.field(name))
            body = body[close.upperBound...]
        }
        if !body.isEmpty { pieces.append(.text(unescaped(body))) }
        return .template(pieces, aligned: aligned)
    }

    /// Rows as field name -> value. `table` uses `columns` (header, field).
    func render(_ rows: [[String: String]], columns: [(header: String, field: String)]) -> String {
        switch self {
        case .json:
            return "" // callers encode their Codable rows themselves
        case .table:
            return Table.render([columns.map(\.header)] + rows.map { row in columns.map { row[$0.field] ?? "" } })
        case .template(let pieces, let aligned):
            func fill(_ row: [String: String]) -> String {
                pieces.map { piece in
                    switch piece {
                    case .text(let t): return t
                    case .field(let f): return PrintableText.escaped(row[f] ?? "")
                    }
                }.joined()
            }
            guard aligned else { return rows.map(fill).joined(separator: "\n") }
            // Aligned: each tab-separated part is a column; headers are the field names.
            let header = pieces.map { piece -> String in
                switch piece {
                case .text(let t): return t
                case .field(let f): return f.uppercased()
                }
            }.joined()
            let lines = [header] + rows.map(fill)
            // The values are escaped already (a tab in one cannot make a column).
            return Table.render(lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }, escaped: true)
        }
    }

    private static func unescaped(_ text: Substring) -> String {
        String(text).replacing("\\t", with: "\t").replacing("\\n", with: "\n")
    }
}
