import Glibc

/// Every failure Nook reports: one line that names the step, the path and the
/// errno, plus a hint where one helps. Users read these; they are the product.
public struct NookError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var hint: String?
    /// The exit code `nook` returns for it (podman's convention: 125 = Nook failed).
    public var exitCode: Int32

    public init(_ message: String, hint: String? = nil, exitCode: Int32 = 125) {
        self.message = message
        self.hint = hint
        self.exitCode = exitCode
    }

    /// A failed system call: "open '/x/y': permission denied".
    public static func sys(_ what: String, errno err: Int32, hint: String? = nil) -> NookError {
        NookError("\(what): \(errnoDescription(err))", hint: hint)
    }

    public var description: String {
        if let hint { return "\(message) (hint: \(hint))" }
        return message
    }
}

/// strerror, lower-cased the way crun prints it ("permission denied").
public func errnoDescription(_ err: Int32) -> String {
    guard let s = strerror(err) else { return "errno \(err)" }
    var text = String(cString: s)
    if let first = text.first { text = first.lowercased() + text.dropFirst() }
    return text
}

/// The symbolic name of an errno, for trace lines and tests ("EPERM").
public func errnoName(_ err: Int32) -> String {
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
