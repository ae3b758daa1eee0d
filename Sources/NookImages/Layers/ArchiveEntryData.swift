import CArchive
import Glibc
import NookCore

/// The current tar entry's bytes, from libarchive into an open file, block
/// by block at their offsets (a sparse file's holes stay holes).
enum ArchiveEntryData {
    static func write(_ reader: OpaquePointer, to fd: Int32, label: String) throws {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        while true {
            let r = archive_read_data_block(reader, &buffer, &size, &offset)
            if r == ARCHIVE_EOF { return }
            guard r >= ARCHIVE_WARN else {
                throw NookError("\(label): \(LayerStream.message(reader))", hint: "the archive is damaged; pull or import the image again")
            }
            var done = 0
            while done < size {
                let n = pwrite(fd, buffer! + done, size - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw NookError.sys("\(label): write", errno: errno, hint: errno == ENOSPC ? "the disk is full" : nil)
                }
                done += n
            }
        }
    }
}
