import SystemPackage

extension NookError {
    /// What failed, as a program matches it: the failure's kind and its facts
    /// (the step, the path, the errno; the container's name and state), never
    /// the words a user reads. Shaped like swift-system's `Errno` and
    /// AsyncHTTPClient's `HTTPClientError`: one case a way of failing, each
    /// carrying what a caller can act on.
    public enum Kind: Sendable, Equatable {
        /// A system call failed: the step as the message names it ("mkdir '/x'"),
        /// the file it worked on where the failing code had one, and the errno.
        case systemCall(step: String, path: String?, errno: Errno)
        /// Bad input: a flag, a config.json field, a name, a file's content.
        case invalidInput
        /// No such container, image, ...: `name` as the caller gave it.
        case notFound(Subject, name: String)
        /// The name is taken: a container of that name exists.
        case alreadyExists(Subject, name: String)
        /// The container is in a state the operation does not take ("running"
        /// for delete without --force; "stopped" for kill, exec, start).
        case wrongState(container: String, state: String)
        /// The command to run is not there (exit code 127).
        case commandNotFound(String)
        /// The command is there but execve refused it (exit code 126).
        case notExecutable(String, errno: Errno)
        /// Content did not hash to the digest it was asked for or named by.
        case digestMismatch(expected: String, actual: String)
        /// Content was not the size its descriptor says (`actual`: the bytes
        /// seen when it was refused, at least that many).
        case sizeMismatch(expected: Int64, actual: Int64)
        /// A step Nook waits on did not finish in its time (a hook's timeout).
        case timedOut
        /// No connection to a server (a registry): refused, unreachable, cut.
        case connectionFailed(url: String)
        /// Valid, but this host, kernel or Nook cannot do it.
        case unsupported
        /// Not classified (yet): the message says what happened.
        case other
    }

    /// What a `.notFound` or `.alreadyExists` is about.
    public enum Subject: String, Sendable, Equatable {
        /// A container, by name or id.
        case container
        /// An image in nook's store.
        case image
        /// A user name (the spec's or image's `user`).
        case user
        /// A group name.
        case group
        /// A file or directory.
        case file
    }
}
