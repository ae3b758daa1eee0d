/// What `nook pull` asks of `nook-registry`, the separate program that talks
/// to registries: the flags as typed, handed over as JSON on fd 3 (a pipe),
/// never in argv, where `/proc/PID/cmdline` would show a `--creds` password.
///
/// Why a second program: the HTTP client (AsyncHTTPClient, SwiftNIO) linked
/// into `nook` made every `nook run --rootfs` execute 20% more instructions
/// (the Swift runtime scans every protocol conformance in the binary on its
/// first dynamic casts; see Docs/performance.md). `nook` stays small; only a
/// pull loads the network stack.
package struct PullRequest: Codable, Sendable, Equatable {
    package var reference: String
    /// `--platform OS/ARCH[/VARIANT]`, as typed.
    package var platform: String?
    package var tlsVerify: Bool
    /// `--creds USER[:PASS]`, as typed (the password is asked on the terminal when left out).
    package var creds: String?
    package var authFile: String?
    package var quiet: Bool

    package init(reference: String, platform: String? = nil, tlsVerify: Bool = true, creds: String? = nil,
                authFile: String? = nil, quiet: Bool = false) {
        self.reference = reference
        self.platform = platform
        self.tlsVerify = tlsVerify
        self.creds = creds
        self.authFile = authFile
        self.quiet = quiet
    }

    /// The fd the request arrives on.
    package static let fd: Int32 = 3
    /// The request is a few hundred bytes; more is not a request.
    package static let limit = 1 << 20
    /// The program's name, found beside `nook` (see `RegistryProgram`).
    package static let programName = "nook-registry"
}
