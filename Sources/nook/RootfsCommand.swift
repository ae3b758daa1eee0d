import ArgumentParser
import NookCore
import NookKernel
import NookRuntime
import NookSpec

struct RootfsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rootfs",
        abstract: "Make a minimal root filesystem.",
        usage: "nook rootfs busybox DIR"
    )

    @Argument(help: "Kind of root filesystem: busybox.") var kind: String
    @Argument(help: "Directory to create.") var directory: String
    @Option(help: "The static busybox binary to use.") var busybox: String = "/bin/busybox"

    func run() throws {
        guard kind == "busybox" else {
            throw NookError("unknown rootfs kind '\(kind)'",
                            hint: "the only kind is busybox; for Debian: mmdebstrap --mode=unshare --variant=minbase bookworm DIR, or nook pull debian:bookworm (Docs/using.md, Other root filesystems)", kind: .invalidInput)
        }
        guard !directory.isEmpty else { throw RootfsBuilder.emptyDirectory }
        let count = try RootfsBuilder.busybox(at: try HostPath.absolute(directory), busybox: busybox)
        print("created \(directory): busybox with \(count) applets")
    }
}
