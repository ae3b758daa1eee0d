import AsyncHTTPClient
import NIOCore
import NIOSSL
import NookCore

/// Opening a registry: HTTPS by default; plain HTTP only with `--tls-verify=false`
/// (podman's flag, which also skips certificate checks). A registry that
/// answers only plain HTTP without it gets an error that says to add it.
package enum RegistryConnection {
    /// An HTTP client for one pull: redirects are the session's business (credentials stay on their host).
    package static func makeClient(tlsVerify: Bool) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !tlsVerify { tls.certificateVerification = .none }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(30), read: .seconds(120)))
        configuration.decompression = .disabled
        // A TLS handshake with a plain-HTTP server fails at once; retried, it would wait out the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Pings `GET /v2/` and answers its challenge, if any, for `repository`.
    package static func open(http: HTTPClient, registry: String, apiHost: String, repository: String,
                            credentials: RegistryCredentials?, tlsVerify: Bool) async throws -> RegistrySession {
        let https = RegistrySession(http: http, base: "https://" + apiHost, host: registry, repository: repository, credentials: credentials)
        let firstError: NookError
        do {
            try await ping(https)
            return https
        } catch let error as NookError {
            guard case .connectionFailed = error.kind else { throw error }
            firstError = error
        }
        let plain = RegistrySession(http: http, base: "http://" + apiHost, host: registry, repository: repository,
                                    credentials: tlsVerify ? nil : credentials)
        if !tlsVerify {
            try await ping(plain)
            return plain
        }
        // Only to say why: does it speak plain HTTP? (no credentials are sent to find out)
        if (try? await ping(plain, answerChallenge: false)) != nil {
            throw NookError("\(registry) answers plain HTTP, not HTTPS; Nook talks HTTPS unless told otherwise",
                            hint: "add --tls-verify=false (podman's flag) if you trust this registry and the network to it")
        }
        throw firstError
    }

    static func ping(_ session: RegistrySession, answerChallenge: Bool = true) async throws {
        let response = try await session.send(session.base + "/v2/", headers: [])
        let body = try await RegistrySession.smallBody(response)
        switch response.status.code {
        case 200: return
        case 401:
            guard answerChallenge else { return }
            try await session.answer(response.headers["WWW-Authenticate"].flatMap(AuthChallenge.parse))
        default:
            throw NookError("\(session.base)/v2/ answered \(response.status.code) \(response.status.reasonPhrase)\(RegistrySession.registryErrors(body).map { ": " + $0 } ?? "")",
                            hint: "is this an OCI distribution (docker) registry?")
        }
    }
}
