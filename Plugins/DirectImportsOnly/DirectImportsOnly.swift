import Foundation
import PackagePlugin

/// Fails the build of a target that imports one of this package's modules it
/// does not declare as a direct dependency in Package.swift.
///
/// SwiftPM's own `--explicit-target-dependency-import-check error` accepts a
/// module reached through another one (`import CShims` in NookRuntime, which
/// depends on NookKernel, which depends on CShims). Here only the arrows drawn
/// in Package.swift (and in Docs/architecture.md, generated from it) compile.
@main
struct DirectImportsOnly: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let ours = Set(context.package.targets.map(\.name))
        var declared: Set<String> = [target.name]
        for dependency in target.dependencies {
            if case .target(let t) = dependency { declared.insert(t.name) }
        }
        var wrong: [String] = []
        for file in module.sourceFiles where file.url.pathExtension == "swift" {
            let text = try String(contentsOf: file.url, encoding: .utf8)
            for (index, line) in Self.codeLines(text).enumerated() {
                for statement in line.split(separator: ";") {
                    guard let name = Self.importedModule(statement), ours.contains(name), !declared.contains(name) else { continue }
                    wrong.append("\(file.url.path):\(index + 1): \(target.name) imports \(name), which Package.swift does not give it")
                }
            }
        }
        guard wrong.isEmpty else {
            for line in wrong { Diagnostics.error(line) }
            throw ForbiddenImport(target: target.name, count: wrong.count)
        }
        return []
    }

    /// The file's lines with comments blanked out (`//` to the end of the
    /// line, `/* */` across lines), so `import /* x */ CShims` reads as an import.
    static func codeLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        var inBlock = false
        var chars = Array(text.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if inBlock {
                if c == "*" && chars.first == "/" { chars.removeFirst(); inBlock = false; current += " " }
                else if c == "\n" { lines.append(current); current = "" }
                continue
            }
            if c == "/" && chars.first == "*" { chars.removeFirst(); inBlock = true; continue }
            if c == "/" && chars.first == "/" {
                while let n = chars.first, n != "\n" { chars.removeFirst() }
                continue
            }
            if c == "\n" { lines.append(current); current = ""; continue }
            current.unicodeScalars.append(c)
        }
        lines.append(current)
        return lines
    }

    /// "import X", "@testable import X", "internal import X", "import struct X.Y" -> X.
    static func importedModule(_ statement: Substring) -> String? {
        var words = statement.split(whereSeparator: { $0 == " " || $0 == "\t" }).filter { !$0.isEmpty }
        while let first = words.first, first.hasPrefix("@") || ["public", "package", "internal", "private", "fileprivate"].contains(first) {
            words.removeFirst()
        }
        guard words.first == "import", words.count >= 2 else { return nil }
        let kinds: Set<Substring> = ["struct", "class", "enum", "protocol", "typealias", "func", "let", "var"]
        let path = kinds.contains(words[1]) && words.count >= 3 ? words[2] : words[1]
        return path.split(separator: ".").first.map(String.init)
    }
}

struct ForbiddenImport: Error, CustomStringConvertible {
    var target: String
    var count: Int
    var description: String {
        "\(target): \(count) import(s) of modules it does not declare; the allowed arrows are in Package.swift and Docs/architecture.md"
    }
}
