import ArgumentParser
import NookCore
import NookKernel
import NookRuntime
import NookSpec

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print nook's version, the OCI spec it reads, libseccomp's version and its features (also: nook --version).")
    @OptionGroup var global: GlobalOptions
    func run() throws { Self.print(global) }

    static func print(_ global: GlobalOptions) {
        let root = global.root ?? StateStore.defaultRoot(environment: ProcessEnvironment.current())
        Swift.print(NookVersion.text(stateRoot: root))
    }
}
