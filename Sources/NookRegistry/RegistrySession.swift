#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NookCore

/// Requests to one repository of one registry, with its auth: anonymous
/// first; on a 401, the challenge is answered (a bearer token from the
/// realm, anonymous or with the credentials; or basic auth) and the request
/// sent again. Redirects are followed here, not by the HTTP client, so the
/// Authorization header goes only to the registry's own host (a blob
/// redirected to a storage host gets none).
package actor RegistrySession {
    let http: HTTPClient
    /// `https://127.0.0.1:5000`: scheme, host and port of the registry's API.
    package let base: String
    let host: String
    let repository: String
    let credentials: RegistryCredentials?
    /// What the last challenge earned: sent with every request to the registry's host.
    var authorization: String?

    static let timeout = TimeAmount.minutes(30)
    static let maximumRedirects = 5
    /// Error bodies and token responses are small; read no more.
    static let smallBodyLimit = 1 << 20

    init(http: HTTPClient, base: String, host: String, repository: String, credentials: RegistryCredentials?) {
        self.http = http
        self.base = base
        self.host = host
        self.repository = repository
        self.credentials = credentials
    }

    /// GET `path` (under `base`) with auth; returns the final response, whose body the caller reads.
    package func get(_ path: String, headers extra: [(String, String)] = []) async throws -> HTTPClientResponse {
        var (response, answeredBy) = try await sendFollowing(base + path, headers: extra)
        if response.status == .unauthorized {
            // A challenge from the host a redirect led to (blob storage) is never
            // answered: its realm would receive the user's password.
            guard Self.authority(of: answeredBy) == Self.authority(of: base) else {
                throw NookError("\(answeredBy), where \(host) redirected the request, refused it (401 Unauthorized); nook sends credentials only to \(host)",
                                hint: "the registry's storage is misconfigured, or the redirect is hostile")
            }
            let challenges = response.headers["WWW-Authenticate"].flatMap(AuthChallenge.parse)
            try await answer(challenges)
            (response, answeredBy) = try await sendFollowing(base + path, headers: extra)
            if response.status == .unauthorized {
                throw NookError("\(host) refused \(credentials.map { "the credentials of '\($0.username)'" } ?? "anonymous access") to \(repository) (401 Unauthorized)",
                                hint: credentials == nil ? "give --creds USER:PASSWORD or log in (podman login writes the auth file Nook reads)"
                                    : "check the user name and password (--creds, --authfile)")
            }
        }
        return response
    }

    /// One request, following redirects; Authorization only to the registry's own host.
    func send(_ url: String, headers extra: [(String, String)]) async throws -> HTTPClientResponse {
        try await sendFollowing(url, headers: extra).response
    }

    /// `send`, and the URL whose host gave the final answer.
    func sendFollowing(_ url: String, headers extra: [(String, String)]) async throws -> (response: HTTPClientResponse, url: String) {
        var url = url
        for _ in 0...Self.maximumRedirects {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            for (name, value) in extra { request.headers.add(name: name, value: value) }
            if let authorization, Self.authority(of: url) == Self.authority(of: base) {
                request.headers.add(name: "Authorization", value: authorization)
            }
            let response: HTTPClientResponse
            do { response = try await http.execute(request, timeout: Self.timeout) } catch {
                throw Self.transportError(error, url: url)
            }
            guard [301, 302, 303, 307, 308].contains(response.status.code) else { return (response, url) }
            guard let location = response.headers.first(name: "Location"), let next = Self.resolve(location, against: url) else {
                throw NookError("\(host) redirected \(url) without a usable Location", hint: "the registry is misconfigured")
            }
            guard next.hasPrefix("https://") || !url.hasPrefix("https://") else {
                throw NookError("\(host) redirected \(url) from HTTPS to plain HTTP (\(next)); refused",
                                hint: "the registry is misconfigured or someone is in the middle")
            }
            url = next
        }
        throw NookError("\(host): more than \(Self.maximumRedirects) redirects for \(url)", hint: "the registry is misconfigured")
    }

    /// Gets a token for the challenge (or takes basic auth) and keeps it for the next requests.
    func answer(_ challenges: [AuthChallenge]) async throws {
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            authorization = "Bearer " + (try await token(for: bearer))
            return
        }
        if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credentials else {
                throw NookError("\(host) wants a user name and password for \(repository)",
                                hint: "give --creds USER:PASSWORD or log in (podman login writes the auth file Nook reads)")
            }
            authorization = credentials.basicAuthorization
            return
        }
        throw NookError("\(host) answered 401 with no challenge Nook can answer (it knows Bearer and Basic)",
                        hint: "the registry wants another kind of authentication")
    }

    /// The distribution spec's token exchange: GET realm?service=...&scope=..., with basic auth if there are credentials.
    func token(for challenge: AuthChallenge) async throws -> String {
        guard let realm = challenge.realm, realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
            throw NookError("\(host)'s challenge names no token server (realm)", hint: "the registry is misconfigured")
        }
        guard realm.hasPrefix("https://") || base.hasPrefix("http://") else {
            throw NookError("\(host) sends its token server at plain HTTP (\(realm)); refused", hint: "use --tls-verify=false only for a registry you trust")
        }
        var query: [String] = []
        if let service = challenge.service { query.append("service=" + Self.escape(service)) }
        query.append("scope=" + Self.escape(challenge.scope ?? "repository:\(repository):pull"))
        var request = HTTPClientRequest(url: realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
        if let credentials { request.headers.add(name: "Authorization", value: credentials.basicAuthorization) }
        let response: HTTPClientResponse
        do { response = try await http.execute(request, timeout: Self.timeout) } catch {
            throw Self.transportError(error, url: realm)
        }
        let body = try await Self.smallBody(response)
        guard response.status == .ok else {
            if response.status == .unauthorized || response.status == .forbidden {
                throw NookError("the token server \(realm) refused \(credentials.map { "user '\($0.username)'" } ?? "anonymous access") to \(repository) (\(response.status.code) \(response.status.reasonPhrase))",
                                hint: credentials == nil ? "give --creds USER:PASSWORD or log in (podman login)" : "check the user name and password (--creds, --authfile)")
            }
            throw NookError("the token server \(realm) answered \(response.status.code) \(response.status.reasonPhrase)", hint: "try again later")
        }
        struct TokenResponse: Decodable { var token: String?; var access_token: String? }
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(body)), // (not JSON: the guard's error names the token server)
              let token = decoded.token ?? decoded.access_token, !token.isEmpty,
              token.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw NookError("the token server \(realm) sent no token", hint: "the registry's token server is misconfigured")
        }
        return token
    }

    /// A body read whole, up to `limit` bytes (more is an error naming `what`).
    static func smallBody(_ response: HTTPClientResponse, limit: Int = smallBodyLimit, what: String = "a response") async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await var chunk in response.body {
            guard bytes.count + chunk.readableBytes <= limit else {
                throw NookError("\(what) is larger than \(limit) bytes; refused", hint: "the registry is misbehaving")
            }
            bytes += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return bytes
    }

    /// A registry's error body (`{"errors":[{"code":..,"message":..}]}`) as one phrase, if it is one.
    static func registryErrors(_ body: [UInt8]) -> String? {
        struct Errors: Decodable { struct Item: Decodable { var code: String?; var message: String? }; var errors: [Item]? }
        guard let items = (try? JSONDecoder().decode(Errors.self, from: Data(body)))?.errors, !items.isEmpty else { return nil } // (no error body: the caller says the status instead)
        return items.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || Array("-._~:/".utf8).contains(byte) {
                out.append(Character(UnicodeScalar(byte)))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    /// `scheme://host:port` of a URL, lower-cased: what must match for credentials to be sent.
    static func authority(of url: String) -> String? {
        let scheme = url.hasPrefix("https://") ? "https://" : url.hasPrefix("http://") ? "http://" : nil
        guard let scheme else { return nil }
        let hostPart = url.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !hostPart.isEmpty, !hostPart.contains("@") else { return nil }
        return (scheme + hostPart).lowercased()
    }

    /// A Location header made absolute.
    static func resolve(_ location: String, against url: String) -> String? {
        if location.hasPrefix("https://") || location.hasPrefix("http://") { return authority(of: location) == nil ? nil : location }
        guard let origin = authority(of: url) else { return nil }
        if location.hasPrefix("//") {
            return (url.hasPrefix("https://") ? "https:" : "http:") + location
        }
        if location.hasPrefix("/") { return origin + location }
        return nil
    }

    /// A failed connection, named with what to do.
    static func transportError(_ error: Error, url: String) -> NookError {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return NookError("cannot connect to \(url): connection refused", hint: "is the registry running, and is the host and port right?",
                             kind: .connectionFailed(url: url))
        }
        return NookError("cannot fetch \(url): \(text)", hint: "check the registry's address and your network", kind: .connectionFailed(url: url))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
