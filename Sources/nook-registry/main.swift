// nook-registry: the program `nook pull` runs to talk to registries (see
// NookImages' PullRequest for why it is not part of `nook`). It reads the
// request from fd 3, pulls, and prints the pinned reference. Not for users:
// `nook pull --help` documents the flags.
import Glibc
import NookCore
import NookImages
import NookRegistry
import NookSpec

func fail(_ error: NookError) -> Never {
    let text = "nook: \(error)\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(error.exitCode)
}

/// The request, read whole from fd 3 (at most PullRequest.limit bytes).
func readRequest() throws -> PullRequest {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(PullRequest.fd, &chunk, chunk.count)
        if n < 0 {
            if errno == EINTR { continue }
            throw NookError.sys("\(PullRequest.programName): read the request on fd \(PullRequest.fd)", errno: errno,
                                hint: "run it through 'nook pull', which sends the request")
        }
        if n == 0 { break }
        bytes += chunk[0..<n]
        guard bytes.count <= PullRequest.limit else { throw NookError("\(PullRequest.programName): the request is larger than 1 MiB") }
    }
    close(PullRequest.fd)
    return try SpecDecoder.decodeJSON(PullRequest.self, from: bytes, what: "pull request")
}

do {
    guard CommandLine.arguments.dropFirst().first == "pull" else {
        throw NookError("\(PullRequest.programName) is run by 'nook pull'", hint: "nook pull IMAGE")
    }
    let request = try readRequest()
    let reference = try ImageReference(parsing: request.reference)
    let environment = ProcessEnvironment.current()
    let puller = ImagePuller(
        store: ImageStore(root: try ImageStore.defaultRoot(environment: environment)),
        platform: try request.platform.map(Platform.init(parsing:)) ?? .host,
        tlsVerify: request.tlsVerify,
        credentials: try request.creds.map { try RegistryCredentials(parsingFlag: $0) },
        authFile: request.authFile,
        environment: environment,
        showProgress: !request.quiet && isatty(2) == 1)
    let result = try waitFor { try await puller.pull(reference) }
    var pinned = reference
    pinned.digest = result.resolvedDigest
    print(pinned.description)
} catch let error as NookError {
    fail(error)
} catch {
    fail(NookError("\(error)"))
}
