/// JSON as the config fuzzer writes it: numbers kept as their literal text
/// (so `1e400`, `-0` and 2^64 reach nook exactly), objects as ordered pairs
/// (so a key may appear twice), and `raw` for text no encoder would write.
indirect enum FuzzJSON: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([FuzzJSON])
    case object([(String, FuzzJSON)])
    case raw(String)

    static func == (a: FuzzJSON, b: FuzzJSON) -> Bool { a.text == b.text }

    /// One step of a path: a key of an object or an index of an array.
    enum Step: Equatable, CustomStringConvertible {
        case key(String)
        case index(Int)
        var description: String {
            switch self {
            case .key(let k): return "." + k
            case .index(let i): return "[\(i)]"
            }
        }
    }

    var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return Self.quoted(s)
        case .raw(let r): return r
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let pairs): return "{" + pairs.map { Self.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The children, with the step that reaches each.
    var children: [(Step, FuzzJSON)] {
        switch self {
        case .array(let items): return items.enumerated().map { (.index($0.offset), $0.element) }
        case .object(let pairs): return pairs.map { (.key($0.0), $0.1) }
        default: return []
        }
    }

    subscript(path: ArraySlice<Step>) -> FuzzJSON? {
        guard let step = path.first else { return self }
        switch (self, step) {
        case (.array(let items), .index(let i)) where i < items.count: return items[i][path.dropFirst()]
        case (.object(let pairs), .key(let k)): return pairs.last(where: { $0.0 == k })?.1[path.dropFirst()]
        default: return nil
        }
    }

    /// Rewrites the node at `path` (nil: removes it). False when the path does not exist.
    @discardableResult
    mutating func update(_ path: ArraySlice<Step>, _ change: (FuzzJSON) -> FuzzJSON?) -> Bool {
        guard let step = path.first else { return false }
        let rest = path.dropFirst()
        switch (self, step) {
        case (.array(var items), .index(let i)) where i < items.count:
            if rest.isEmpty {
                if let new = change(items[i]) { items[i] = new } else { items.remove(at: i) }
            } else if !items[i].update(rest, change) { return false }
            self = .array(items)
        case (.object(var pairs), .key(let k)):
            guard let i = pairs.lastIndex(where: { $0.0 == k }) else { return false }
            if rest.isEmpty {
                if let new = change(pairs[i].1) { pairs[i].1 = new } else { pairs.remove(at: i) }
            } else if !pairs[i].1.update(rest, change) { return false }
            self = .object(pairs)
        default: return false
        }
        return true
    }

    /// A small parser for the base configs (well-formed JSON from runc and nook).
    static func parse(_ text: String) -> FuzzJSON? {
        var p = Parser(bytes: Array(text.utf8))
        let value = p.value()
        p.space()
        return p.i == p.bytes.count ? value : nil
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func space() { while i < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[i]) { i += 1 } }

        mutating func literal(_ word: String, _ value: FuzzJSON) -> FuzzJSON? {
            let w = Array(word.utf8)
            guard bytes.count - i >= w.count, Array(bytes[i..<i + w.count]) == w else { return nil }
            i += w.count
            return value
        }

        mutating func value() -> FuzzJSON? {
            space()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "n"): return literal("null", .null)
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "["):
                i += 1
                var items: [FuzzJSON] = []
                space()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    guard let v = value() else { return nil }
                    items.append(v)
                    space()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    return nil
                }
            case UInt8(ascii: "{"):
                i += 1
                var pairs: [(String, FuzzJSON)] = []
                space()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                while true {
                    space()
                    guard let k = string() else { return nil }
                    space()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
                    i += 1
                    guard let v = value() else { return nil }
                    pairs.append((k, v))
                    space()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                    return nil
                }
            default:
                let start = i
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
                return i > start ? .number(String(decoding: bytes[start..<i], as: UTF8.self)) : nil
            }
        }

        mutating func string() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                guard b == UInt8(ascii: "\\"), i < bytes.count else { out.append(b); continue }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(v) else { return nil }
                    i += 4
                    out += Array(String(Character(scalar)).utf8)
                default: out.append(e)
                }
            }
            return nil
        }
    }
}
