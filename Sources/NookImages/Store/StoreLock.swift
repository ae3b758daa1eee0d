import Glibc
import NookCore

/// A flock(2) on one file under locks/: two `nook pull`s of the
/// same image wait for each other per blob instead of writing it twice.
/// Exclusive, or `shared`: `containers` is held shared by each `run`/`create`
/// of an image while it resolves the image and makes and marks its
/// container layer, and exclusive by rmi and prune while they decide which
/// images are in use (`ImageStore.containersLockName`).
/// Released by `unlock()` or when the process dies (the kernel drops flocks).
package final class StoreLock {
    private var fd: Int32

    /// Blocks until the lock named `name` (a digest's hex, "images") is ours.
    /// `beforeWaiting`: called when another holds it, before waiting (to say
    /// so: a holder stopped with ^Z would otherwise leave a silent hang).
    package init(store: ImageStore, name: String, shared: Bool = false, beforeWaiting: ((String) -> Void)? = nil) throws {
        let path = store.locksDirectory + "/" + name + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw NookError.sys("lock '\(path)'", path: path, errno: errno) }
        if let beforeWaiting, flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0, errno == EWOULDBLOCK {
            beforeWaiting(path)
        }
        while flock(fd, shared ? LOCK_SH : LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let err = errno
            close(fd)
            throw NookError.sys("flock '\(path)'", path: path, errno: err)
        }
    }

    package func unlock() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { unlock() }
}
