import NookCore

/// `KEY=VALUE` lists (`-e`, `--env-file`): later entries replace earlier ones with the same key.
package enum EnvironmentList {
    package static func merge(_ base: [String], _ overrides: [String]) -> [String] {
        var result = base
        for entry in overrides {
            let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            result.removeAll { $0 == key || $0.hasPrefix(key + "=") }
            result.append(entry)
        }
        return result
    }

    package static func parse(_ entries: [String], caller: [String: String]) throws -> [String] {
        try entries.compactMap { entry in
            if entry.isEmpty || entry.hasPrefix("=") {
                throw NookError("invalid environment variable '\(entry)': expected KEY=VALUE or KEY", kind: .invalidInput)
            }
            if entry.contains("=") { return entry }
            return caller[entry].map { "\(entry)=\($0)" }
        }
    }

    /// An env file, read as Docker reads `--env-file`: one `KEY=VALUE` a line,
    /// the value kept as written (no quotes removed, no trimming); `KEY` alone
    /// copies the caller's value, if any; blank lines and `#` comments skipped;
    /// leading whitespace ignored. Not a shell script: `export A=1` or `A = 1`
    /// is an error naming the line, rather than a variable named "export A".
    /// `label` names the file in errors ("--env-file ./x").
    package static func parseFile(_ bytes: [UInt8], label: String, caller: [String: String]) throws -> [String] {
        var result: [String] = []
        // Split on "\n" and drop a trailing "\r" (Go's bufio.ScanLines): a Swift
        // Character would take "\r\n" as one and miss both.
        for (index, rawLine) in bytes.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            func bad(_ why: String, hint: String = "lines are KEY=VALUE or KEY, as in Docker's env files; 'export' and spaces around '=' are shell syntax") -> NookError {
                NookError("\(label) line \(number): \(why)", hint: hint)
            }
            var lineBytes = rawLine.last == 13 ? rawLine.dropLast() : rawLine[...]
            if number == 1 && lineBytes.starts(with: [0xEF, 0xBB, 0xBF]) { lineBytes = lineBytes.dropFirst(3) } // UTF-8 BOM
            guard !lineBytes.contains(0) else { throw bad("a NUL byte, which no variable can hold", hint: "is it a text file?") }
            guard let decoded = String(validating: lineBytes, as: UTF8.self) else { throw bad("not valid UTF-8", hint: "save the file as UTF-8") }
            let line = decoded.drop { $0.isWhitespace }
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                guard isPortableName(line) else { throw bad("expected KEY=VALUE or a variable name, found '\(shown(line))'") }
                if let value = caller[String(line)] { result.append("\(line)=\(value)") }
                continue
            }
            let name = line[..<eq]
            guard !name.isEmpty else { throw bad("no variable name before '=' in '\(shown(line))'") }
            guard !name.contains(where: \.isWhitespace) else { throw bad("variable name '\(shown(name))' contains whitespace") }
            result.append(String(line))
        }
        return result
    }

    /// A name a shell could export: letters, digits and '_', not starting with a digit.
    static func isPortableName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// A line as quoted in an error: at most 60 characters.
    static func shown(_ text: Substring) -> String {
        text.count > 60 ? text.prefix(60) + "..." : String(text)
    }
}
