import Glibc
import SystemPackage

/// Every failure Nook reports: one line that names the step, the path and the
/// errno, plus a hint where one helps. Users read these; they are the product.
/// Programs match `kind` (NookErrorKind.swift), never the words of `message`.
public struct NookError: Error, CustomStringConvertible, Sendable, Equatable, Codable {
    /// What failed, naming the step, the path and the errno where there are.
    public var message: String
    /// What to do about it, where Nook knows.
    public var hint: String?
    /// The exit code `nook` returns for it (podman's convention: 125 = Nook failed).
    public var exitCode: Int32
    /// What failed, for a caller to match; the CLI prints `description` only.
    public var kind: Kind

    package init(_ message: String, hint: String? = nil, exitCode: Int32 = 125, kind: Kind = .other) {
        self.message = message
        self.hint = hint
        self.exitCode = exitCode
        self.kind = kind
    }

    /// A failed system call: "open '/x/y': permission denied". `path` is the
    /// file it worked on, for callers; the message already names it.
    package static func sys(_ what: String, path: String? = nil, errno err: Int32, hint: String? = nil) -> NookError {
        NookError("\(what): \(errnoDescription(err))", hint: hint,
                  kind: .systemCall(step: what, path: path, errno: Errno(rawValue: err)))
    }

    /// The same failure, its message prefixed with where it happened
    /// ("set memory.max=64M: " + "write '...': ..."): the kind stays; a `hint`
    /// given replaces the one it had. A step of Nook's own failed: exit code
    /// 125 (a createContainer hook's exec says 126 or 127 only as its kind).
    package func within(_ context: String, hint: String? = nil) -> NookError {
        NookError("\(context): \(message)", hint: hint ?? self.hint, kind: kind)
    }

    /// The errno of a failed system call, nil for other kinds: `error.errno == .permissionDenied`.
    public var errno: Errno? {
        switch kind {
        case .systemCall(_, _, let err), .notExecutable(_, let err): return err
        default: return nil
        }
    }

    /// The message, then the hint in parentheses: what the CLI prints.
    public var description: String {
        if let hint { return "\(message) (hint: \(hint))" }
        return message
    }
}

/// strerror, lower-cased the way crun prints it ("permission denied").
package func errnoDescription(_ err: Int32) -> String {
    guard let s = strerror(err) else { return "errno \(err)" }
    var text = String(cString: s)
    if let first = text.first { text = first.lowercased() + text.dropFirst() }
    return text
}

/// The symbolic name of an errno, for trace lines and tests ("EPERM").
package func errnoName(_ err: Int32) -> String {
    let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
        E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL",
        ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY", ETXTBSY: "ETXTBSY", ENOSPC: "ENOSPC",
        EROFS: "EROFS", ELOOP: "ELOOP", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS",
        EOPNOTSUPP: "EOPNOTSUPP", EADDRINUSE: "EADDRINUSE",
    ]
    return names[err] ?? "E\(err)"
}
