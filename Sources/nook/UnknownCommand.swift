import NookCore
import NookKernel
import NookRuntime
import NookSpec

/// `nook rn --rootfs R` must say that `rn` is not a command (and suggest
/// `run`), not that `--rootfs` is an unknown option of the root command.
enum UnknownCommand {
    static func check(_ arguments: [String]) -> NookError? {
        guard let word = arguments.first, !word.hasPrefix("-") else { return nil }
        let names = Nook.configuration.subcommands.map { $0.configuration.commandName ?? "" } + ["help"]
        guard !names.contains(word) else { return nil }
        let visible = names.filter { !$0.hasPrefix("__") }  // internal: __monitor, __forward, the layer helpers
        let nearest = visible.min { distance(word, $0) < distance(word, $1) }
        if let nearest, distance(word, nearest) <= max(2, word.count / 3) {
            return NookError("unknown command '\(word)'; did you mean '\(nearest)'?", hint: "nook --help lists the commands", kind: .invalidInput)
        }
        return NookError("unknown command '\(word)'", hint: "nook --help lists the commands", kind: .invalidInput)
    }

    /// Levenshtein distance: the fewest one-character edits from a to b.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var diagonal = row[0]
            row[0] = i
            for j in 1...b.count {
                let above = row[j]
                row[j] = min(above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
                diagonal = above
            }
        }
        return row[b.count]
    }
}
