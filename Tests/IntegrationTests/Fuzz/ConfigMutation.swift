/// One change to a config.json (or a process.json), made at one path of the
/// document or to the document's text. A case is a base and a list of these;
/// the minimizer drops changes while the failure stays.
struct ConfigMutation: CustomStringConvertible {
    enum Change {
        case set(FuzzJSON)
        case remove
        case addKey(String, FuzzJSON)
        /// The same key again, after the one there: most decoders keep the last.
        case duplicateKey(String, FuzzJSON)
        /// Text changes, after the document is written out.
        case truncate(fraction: Double)
        case byteOrderMark
        case invalidUTF8
        case trailingGarbage
        /// config.json itself is not a regular file.
        case fileKind(FileKind)
    }

    enum FileKind: String { case fifo, zeroLink = "symlink to /dev/zero", directory }

    var path: [FuzzJSON.Step]
    var change: Change

    var pathText: String { path.isEmpty ? "(document)" : path.map(\.description).joined().drop(while: { $0 == "." }).description }

    var description: String {
        func short(_ v: FuzzJSON) -> String {
            let t = v.text
            return t.count > 120 ? String(t.prefix(100)) + "... (\(t.utf8.count) bytes)" : t
        }
        switch change {
        case .set(let v): return "\(pathText) = \(short(v))"
        case .remove: return "remove \(pathText)"
        case .addKey(let k, let v): return "\(pathText) + unknown key \(FuzzJSON.quoted(k)): \(short(v))"
        case .duplicateKey(let k, let v): return "\(pathText) + duplicate key \(FuzzJSON.quoted(k)): \(short(v))"
        case .truncate(let f): return "text truncated to \(Int(f * 100))%"
        case .byteOrderMark: return "text starts with a byte order mark"
        case .invalidUTF8: return "an invalid UTF-8 byte in the text"
        case .trailingGarbage: return "garbage after the document"
        case .fileKind(let k): return "config.json is a \(k.rawValue)"
        }
    }

    /// Whether the change can touch what the container runs or where it is found
    /// (the process, the rootfs, a mount over /bin): then "not found" (127) and
    /// "cannot run" (126) are legitimate outcomes.
    var touchesProcess: Bool {
        guard let first = path.first else { return false }
        return [.key("process"), .key("root"), .key("mounts")].contains(first)
    }

    func apply(to doc: inout FuzzJSON) {
        switch change {
        case .set(let v): doc.update(path[...]) { _ in v }
        case .remove: doc.update(path[...]) { _ in nil }
        case .addKey(let k, let v), .duplicateKey(let k, let v):
            let add: (FuzzJSON) -> FuzzJSON? = { node in
                guard case .object(var pairs) = node else { return node }
                pairs.append((k, v))
                return .object(pairs)
            }
            if path.isEmpty { doc = add(doc) ?? doc } else { doc.update(path[...], add) }
        default: break
        }
    }

    /// The document's bytes after text changes.
    static func bytes(of doc: FuzzJSON, _ mutations: [ConfigMutation]) -> [UInt8] {
        var bytes = Array(doc.text.utf8)
        for m in mutations {
            switch m.change {
            case .truncate(let f): bytes = Array(bytes.prefix(Int(Double(bytes.count) * f)))
            case .byteOrderMark: bytes = [0xEF, 0xBB, 0xBF] + bytes
            case .invalidUTF8: bytes.insert(0xFF, at: bytes.count / 2)
            case .trailingGarbage: bytes += Array(" }{,".utf8)
            default: break
            }
        }
        return bytes
    }

    /// A random change somewhere in `doc`: the walk goes down from the root and
    /// stops at each level with some chance, so every field is reached, and a
    /// 300-entry seccomp list does not take all the cases.
    static func random(in doc: FuzzJSON, fixtures: FuzzFixtures, fileKinds: Bool, using rng: inout FuzzRandom) -> ConfigMutation {
        let roll = rng.int(0...99)
        if roll < 4 {
            return ConfigMutation(path: [], change: rng.pick([.truncate(fraction: Double(rng.int(0...99)) / 100), .byteOrderMark, .invalidUTF8, .trailingGarbage]))
        }
        if roll < 6 && fileKinds {
            return ConfigMutation(path: [], change: .fileKind(rng.pick([.fifo, .zeroLink, .directory])))
        }
        var path: [FuzzJSON.Step] = []
        var node = doc
        while true {
            let children = node.children
            if children.isEmpty || (!path.isEmpty && rng.chance(0.3)) { break }
            let (step, child) = rng.pick(children)
            path.append(step)
            node = child
        }
        let kind = rng.int(0...99)
        switch kind {
        case 0..<10 where !path.isEmpty: return ConfigMutation(path: path, change: .remove)
        case 10..<20:
            if case .object = node {
                return ConfigMutation(path: path, change: .addKey(rng.pick(["xyz", "", "__proto__", "\u{0}", String(repeating: "k", count: 5000), "Args"]),
                                                                   value(like: node, fixtures: fixtures, using: &rng)))
            }
            if case .object(let pairs) = doc, let key = pairs.map(\.0).randomElement(using: &rng) {
                return ConfigMutation(path: [], change: .duplicateKey(key, value(like: .null, fixtures: fixtures, using: &rng)))
            }
        case 20..<30:
            if case .object(let pairs) = node, let key = pairs.map(\.0).randomElement(using: &rng) {
                return ConfigMutation(path: path, change: .duplicateKey(key, value(like: pairs.last { $0.0 == key }!.1, fixtures: fixtures, using: &rng)))
            }
        default: break
        }
        return ConfigMutation(path: path, change: .set(value(like: node, fixtures: fixtures, using: &rng)))
    }

    /// A hostile value for a place that holds `node`: of another type, an extreme
    /// of its own, hugely long or deeply nested.
    static func value(like node: FuzzJSON, fixtures: FuzzFixtures, using rng: inout FuzzRandom) -> FuzzJSON {
        switch rng.int(0...99) {
        case 0..<25: return .number(rng.pick(FuzzValues.numbers))
        case 25..<30: return .raw(rng.pick(FuzzValues.badNumbers))
        case 30..<55: return .string(rng.pick(FuzzValues.strings(fixtures)))
        case 55..<62: return rng.pick([.null, .bool(true), .bool(false), .array([]), .object([]), .string("")])
        case 62..<68:
            let depth = rng.pick([64, 600, 5000, 100_000])
            return rng.chance(0.5) ? .raw(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
                : .raw(String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth))
        case 68..<75:
            // A huge array of what is already there (or of strings).
            let element: FuzzJSON
            if case .array(let items) = node, let first = items.first { element = first } else { element = .string("x") }
            return .array(Array(repeating: element, count: rng.pick([1000, 20_000])))
        case 75..<85:
            // A value of the right shape whose inner fields are hostile.
            switch node {
            case .array(let items) where !items.isEmpty:
                var copy = items
                copy[rng.int(0...items.count - 1)] = value(like: .null, fixtures: fixtures, using: &rng)
                return .array(copy)
            case .object(let pairs) where !pairs.isEmpty:
                var copy = pairs
                let i = rng.int(0...pairs.count - 1)
                copy[i].1 = value(like: copy[i].1, fixtures: fixtures, using: &rng)
                return .object(copy)
            default: return .number(rng.pick(FuzzValues.numbers))
            }
        default:
            switch node {
            case .number: return .number(rng.pick(FuzzValues.numbers))
            case .string: return .string(rng.pick(FuzzValues.strings(fixtures)))
            case .bool(let b): return rng.chance(0.5) ? .bool(!b) : .string(b ? "true" : "false")
            default: return .string(rng.pick(FuzzValues.strings(fixtures)))
            }
        }
    }
}
