import ArgumentParser
import Glibc
import NookCore
import NookImages
import NookRegistry
import NookRuntime

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
        let parsed = try ImageReference(parsing: reference)
        let environment = ProcessEnvironment.current()
        let puller = ImagePuller(
            store: ImageStore(root: try ImageStore.defaultRoot(environment: environment)),
            platform: try platform.map(Self.parsePlatform) ?? .host,
            tlsVerify: tlsVerify,
            credentials: try creds.map { try RegistryCredentials(parsingFlag: $0) },
            authFile: authfile,
            environment: environment,
            showProgress: !quiet && isatty(2) == 1)
        let result = try waitFor { try await puller.pull(parsed) }
        var pinned = parsed
        pinned.digest = result.resolvedDigest
        print(pinned.description)
    }

    static func parsePlatform(_ text: String) throws -> Platform {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { b in (48...57).contains(b) || (97...122).contains(b) || b == UInt8(ascii: "_") } }) else {
            throw NookError("invalid --platform '\(PrintableText.escaped(text))'", hint: "write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8")
        }
        return Platform(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }
}
