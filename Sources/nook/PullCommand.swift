import ArgumentParser
import Glibc
import NookCore
import NookImages

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch an image from a registry into your image store, verified.",
        discussion: """
        Every blob is checked against its sha256 digest before it is kept. Prints the image's name with \
        the digest it resolved to (NAME:TAG@sha256:...), which pins it: pull or run that to get exactly \
        this image again. Progress goes to stderr when it is a terminal. Credentials come from --creds, \
        --authfile, or podman's auth files (see Docs/images.md).
        """
    )

    @Argument(help: "The image: [REGISTRY/]NAME[:TAG][@sha256:DIGEST] (busybox means docker.io/library/busybox:latest).")
    var reference: String
    @Option(help: "The platform to choose from a multi-platform image: OS/ARCH[/VARIANT] (default: this machine's).")
    var platform: String?
    @Option(name: .customLong("tls-verify"), help: "Use HTTPS and check the certificate (false: skip the check and allow plain HTTP).")
    var tlsVerify: Bool = true
    @Option(help: "USER[:PASSWORD] for the registry (the password is asked on the terminal when left out).")
    var creds: String?
    @Option(help: "The auth file to read credentials from (default: $REGISTRY_AUTH_FILE, else podman's and docker's files).")
    var authfile: String?
    @Flag(name: .shortAndLong, help: "Print no progress.") var quiet = false

    func run() throws {
        // Checked here, so a typo is refused before any other program starts.
        _ = try ImageReference(parsing: reference)
        if let platform { _ = try Platform(parsing: platform) }
        try RegistryProgram.exec(PullRequest(reference: reference, platform: platform, tlsVerify: tlsVerify,
                                             creds: creds, authFile: authfile, quiet: quiet))
    }
}
