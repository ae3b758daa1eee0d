import ArgumentParser
import NookCore
import NookKernel
import NookRuntime
import NookSpec

/// What the shell completions (`nook --generate-completion-script bash|zsh|fish`)
/// offer beyond subcommands and flags: the caller's container names, and the
/// `--network` modes. The shell runs nook to ask, so this must stay cheap.
enum Completions {
    static let containers = CompletionKind.custom { words, _, prefix in
        // `--root DIR` on the line being completed names another state directory.
        var root: String?
        if let i = words.firstIndex(of: "--root"), i + 1 < words.count { root = words[i + 1] }
        // completion offers what it can; no state root means no ids
        let ids = (try? Runtime(stateRoot: root, environment: ProcessEnvironment.current()))?.store.ids() ?? []
        return ids.filter { $0.hasPrefix(prefix) }
    }

    static let networks = CompletionKind.list(["none", "host", "pasta", "slirp4netns"])
}
