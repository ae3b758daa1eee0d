import Glibc
import NookCore

/// One blob being written into the store: held under its lock, hashed as
/// it is written, and renamed into blobs/ by `commit()` only when its
/// digest and size are the ones it must have. `abandon()` (or failing to
/// commit) leaves nothing under blobs/.
///
/// The partial file is `tmp/HEX.partial`: a pull that was interrupted
/// finds it, and `resumeOffset` says how much of it is there (the registry
/// client asks for the rest with a Range request, or truncates and restarts).
package final class BlobWriter {
    package let store: ImageStore
    package let expected: Digest
    package let expectedSize: Int64?
    let what: String
    private var fd: Int32
    private var stream = DigestStream()
    private let lock: StoreLock
    /// Committed or abandoned: a second abandon() must not unlink another pull's new partial file.
    private var finished = false
    let partialPath: String

    /// nil when the blob is already in the store (checked under the lock, so
    /// a second pull of the same image waits and then finds it).
    package init?(store: ImageStore, expected: Digest, expectedSize: Int64?, what: String = "blob") throws {
        self.store = store
        self.expected = expected
        self.expectedSize = expectedSize
        self.what = what
        lock = try StoreLock(store: store, name: expected.hex)
        if store.hasBlob(expected) { lock.unlock(); return nil }
        partialPath = store.tmpDirectory + "/" + expected.hex + ".partial"
        fd = open(partialPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw NookError.sys("create '\(partialPath)'", path: partialPath, errno: errno) }
    }

    /// Bytes already in the partial file from an interrupted pull, hashed
    /// again now so the final digest covers them. 0 if none.
    package func resume() throws -> Int64 {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        _ = lseek(fd, 0, SEEK_SET)
        stream = DigestStream()
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 { if errno == EINTR { continue }; throw NookError.sys("read '\(partialPath)'", path: partialPath, errno: errno) }
            if n == 0 { break }
            stream.update(Array(chunk[0..<n]))
        }
        if let expectedSize, stream.count > expectedSize { try restart() }
        return stream.count
    }

    /// Throws away what the partial file holds (the server ignored a Range request).
    package func restart() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { throw NookError.sys("truncate '\(partialPath)'", path: partialPath, errno: errno) }
        stream = DigestStream()
    }

    package var written: Int64 { stream.count }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let expectedSize, stream.count + Int64(bytes.count) > expectedSize {
            throw NookError("\(what) \(expected) is larger than the \(expectedSize) bytes its descriptor says; nothing was stored",
                            hint: "the source is corrupt or lying about the size",
                            kind: .sizeMismatch(expected: expectedSize, actual: stream.count + Int64(bytes.count)))
        }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw NookError.sys("write '\(partialPath)'", path: partialPath, errno: errno,
                                    hint: errno == ENOSPC ? "the disk is full: free space under \(store.root) and pull again" : nil)
            }
            offset += n
        }
        stream.update(bytes)
    }

    package func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Verifies, fsyncs and renames into blobs/. On a mismatch the partial file is removed.
    package func commit() throws {
        let actual = stream.finish()
        if let expectedSize, stream.count != expectedSize {
            abandon()
            throw NookError("\(what) \(expected) has \(stream.count) bytes, not the \(expectedSize) its descriptor says; nothing was stored",
                            hint: "the source is corrupt or the transfer was cut short; try again",
                            kind: .sizeMismatch(expected: expectedSize, actual: stream.count))
        }
        guard actual == expected else {
            abandon()
            throw NookError("\(what) digest mismatch: expected \(expected), got \(actual); nothing was stored",
                            hint: "the source is corrupt or was changed; fetch it again",
                            kind: .digestMismatch(expected: "\(expected)", actual: "\(actual)"))
        }
        guard fsync(fd) == 0 else { throw NookError.sys("fsync '\(partialPath)'", path: partialPath, errno: errno) }
        fchmod(fd, 0o444)
        close(fd)
        fd = -1
        guard rename(partialPath, store.blobPath(expected)) == 0 else { throw NookError.sys("rename into '\(store.blobsDirectory)'", path: partialPath, errno: errno) }
        finished = true
        let dir = open(store.blobsDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { fsync(dir); close(dir) }
        lock.unlock()
    }

    /// Removes the partial file: what an error does.
    package func abandon() {
        guard !finished else { return }
        finished = true
        if fd >= 0 { close(fd); fd = -1 }
        unlink(partialPath)
        lock.unlock()
    }

    deinit {
        // Kept for a later resume unless committed or abandoned.
        if fd >= 0 { close(fd) }
    }
}
