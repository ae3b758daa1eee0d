import CShims
import Glibc
import NookCore

/// CVE-2019-5736 for a rootless runtime. A process in a container that can
/// open /proc/PID/exe of a nook process holds the user's own nook binary: the
/// user owns it, and container root is the user. Once no nook runs any more
/// (no ETXTBSY), it can rewrite it, and the user's next `nook` runs the
/// container's code on the host.
///
/// So the nook processes that enter or wait in a container (`SealPolicy` says
/// which) run from a copy of the binary in memory: a memfd sealed against
/// writes, growth and shrinking. Their /proc/PID/exe leads to that copy, and
/// the kernel refuses every write to it, whoever asks.
package enum SealedBinary {
    /// Set across the re-exec, only to stop a loop. Whether a process runs
    /// sealed is read from the seals of /proc/self/exe: an environment
    /// variable is whatever the caller says.
    static let reexecMarker = "NOOK_SEALED_REEXEC"

    /// Whether this process runs from a memfd with all of our seals.
    package static var isRunningSealed: Bool {
        let fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return nook_contents_sealed(fd) == 1
    }

    /// Unless this process already runs from a sealed copy, makes one and
    /// executes it with the same arguments and environment: the call returns
    /// only in a sealed process. Call it before anything with a side effect.
    package static func ensure() throws {
        if isRunningSealed {
            unsetenv(reexecMarker)
            // execveat names the process after the fd ("memfd:nook"); ps and pgrep expect "nook".
            let name = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "nook") } ?? "nook"
            _ = nook_set_process_name(name)
            return
        }
        if getenv(reexecMarker) != nil {
            throw NookError("nook re-executed itself from a sealed copy of its binary, but /proc/self/exe is not sealed",
                            hint: "unset \(reexecMarker) if you set it yourself")
        }
        // Until it is sealed, the copy is writable through /proc/PID/fd of this
        // process: nobody else may open those while we copy (execve makes the
        // new image dumpable again).
        _ = nook_set_dumpable(0)
        let copy: Int32
        do { copy = try sealedCopy() } catch {
            _ = nook_set_dumpable(1)
            throw error
        }
        setenv(reexecMarker, "1", 1)
        // Swift's copy of the arguments: the process's own show only a title by now (`hideArguments`).
        let argv = CommandLine.arguments.map { strdup($0) } + [nil]
        fexecve(copy, argv, environ)
        let err = errno
        for p in argv { free(p) }
        unsetenv(reexecMarker)
        close(copy)
        _ = nook_set_dumpable(1)
        throw NookError.sys("execute the sealed copy of nook's binary", errno: err)
    }

    /// A memfd holding /proc/self/exe, sealed.
    static func sealedCopy() throws -> Int32 {
        let source = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw NookError.sys("open /proc/self/exe to copy nook's binary", errno: errno) }
        defer { close(source) }
        return try sealedCopy(of: source, name: "nook", what: "nook's binary")
    }

    /// A memfd holding the regular file open at `source`, sealed: a program that
    /// runs inside a container (a hook) from it cannot reach the host's file.
    package static func sealedCopy(of source: Int32, name: String, what: String) throws -> Int32 {
        var st = stat()
        guard fstat(source, &st) == 0 else { throw NookError.sys("stat \(what)", errno: errno) }
        let copy = nook_memfd_sealable(name)
        guard copy >= 0 else { throw NookError.sys("memfd_create for a sealed copy of \(what)", errno: errno) }
        var left = Int(st.st_size)
        while left > 0 {
            let n = nook_sendfile(copy, source, left)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let err = n < 0 ? errno : EIO
                close(copy)
                throw NookError.sys("copy \(what) into memory (\(st.st_size - off_t(left)) of \(st.st_size) bytes)", errno: err)
            }
            left -= n
        }
        return try seal(copy, what: what)
    }

    /// A memfd holding `bytes`, sealed.
    package static func sealedCopy(of bytes: UnsafeRawBufferPointer, name: String, what: String) throws -> Int32 {
        let copy = nook_memfd_sealable(name)
        guard copy >= 0 else { throw NookError.sys("memfd_create for a sealed copy of \(what)", errno: errno) }
        var done = 0
        while done < bytes.count {
            let n = write(copy, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let err = n < 0 ? errno : EIO
                close(copy)
                throw NookError.sys("copy \(what) into memory", errno: err)
            }
            done += n
        }
        return try seal(copy, what: what)
    }

    /// Seals `copy` (closed on failure). EBUSY would mean someone mapped it
    /// writable: never execute that.
    private static func seal(_ copy: Int32, what: String) throws -> Int32 {
        guard nook_seal_contents(copy) == 0 else {
            let err = errno
            close(copy)
            throw NookError.sys("seal the in-memory copy of \(what)", errno: err)
        }
        return copy
    }
}
