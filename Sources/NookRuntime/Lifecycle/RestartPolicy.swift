import Glibc
import NookCore
import NookKernel
import NookSpec

/// `nook run -d --restart`: what a detached container's own monitor does when
/// the container ends by itself. There is no daemon: the policy lives in that
/// monitor, so it survives nothing that would need one (the monitor killed, a
/// reboot), and `nook stop`, `kill` or `rm` end it (the container is then
/// marked as stopped by its user).
package enum RestartPolicy: Sendable, Equatable, CustomStringConvertible {
    case no
    /// Restart after a non-zero exit, at most `maxRetries` times (nil: no limit).
    case onFailure(maxRetries: Int?)
    /// Restart after any exit; `unless-stopped` means the same here, as a
    /// user's stop always ends the policy.
    case always

    package static func parse(_ text: String) throws -> RestartPolicy {
        let bad = NookError("invalid --restart '\(text)'", hint: "use no, on-failure[:N], always or unless-stopped", kind: .invalidInput)
        switch text {
        case "", "no": return .no
        case "always", "unless-stopped": return .always
        case "on-failure": return .onFailure(maxRetries: nil)
        default:
            guard text.hasPrefix("on-failure:"), let n = Int(text.dropFirst("on-failure:".count)), n >= 0, n <= 1_000_000 else { throw bad }
            return .onFailure(maxRetries: n)
        }
    }

    /// The text `parse` reads back (kept in state.json).
    package var description: String {
        switch self {
        case .no: "no"
        case .always: "always"
        case .onFailure(let n): n.map { "on-failure:\($0)" } ?? "on-failure"
        }
    }

    /// A container removed when it stops (`--rm`) is never restarted.
    package func check(removeOnExit: Bool) throws {
        if removeOnExit && self != .no {
            throw NookError("--rm and --restart \(self) cannot go together", hint: "a container removed when it stops cannot be restarted", kind: .invalidInput)
        }
    }

    package func restarts(exitCode: Int32, restartsSoFar: Int) -> Bool {
        switch self {
        case .no: false
        case .always: true
        case .onFailure(let max): exitCode != 0 && (max.map { restartsSoFar < $0 } ?? true)
        }
    }

    /// The pause before restart N+1: 100 ms, doubling up to 10 s, so a command
    /// that fails at once does not spin.
    package static func delay(afterRestarts n: Int) -> useconds_t {
        useconds_t(min(100_000 << min(n, 7), 10_000_000))
    }
}
