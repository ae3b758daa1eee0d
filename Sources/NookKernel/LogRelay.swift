import CShims
import Glibc
import NookCore

/// `nook run -d`: the container's stdout and stderr are pipes the monitor
/// copies into `<state>/container.log`, size-capped: past `limit` bytes the
/// log is rotated to container.log.1 (one old file kept).
///
/// Beside it, `container.log.streams` says which stream each piece came
/// from (`LogStreamMap`), so a library caller can tell stdout from stderr
/// while the log itself stays one file in order, as `nook logs` shows it.
package final class LogRelay: @unchecked Sendable {
    package let path: String
    package let limit: Int
    private var sources: [Int32]
    private var fd: Int32
    private var size: Int
    /// The stream map's fd (written after the bytes it describes), and its size.
    private var mapFD: Int32
    private var mapSize: Int
    /// Bytes in the log whose record could not go out (a full disk): described
    /// with the next record that does, as their stream (nook's if they mix).
    private var undescribed: (stream: LogStreamMap.Stream, count: Int)?
    private let stdoutSource: Int32

    /// The pipes' write ends, for the container's stdout and stderr.
    package let containerStdout: Int32
    package let containerStderr: Int32

    package init(path: String, limit: Int = 1 << 20) throws {
        self.path = path
        self.limit = limit
        let files = try Self.openFiles(path, limit: limit)
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard nook_pipe_cloexec_checked(&out), nook_pipe_cloexec_checked(&err) else {
            let failure = errno
            for opened in [files.log, files.map] + out + err where opened >= 0 { close(opened) }
            throw NookError.sys("pipe", errno: failure)
        }
        (fd, size, mapFD, mapSize) = (files.log, files.size, files.map, files.mapSize)
        undescribed = files.undescribed > 0 ? (.nook, files.undescribed) : nil
        sources = [out[0], err[0]]
        stdoutSource = out[0]
        containerStdout = out[1]
        containerStderr = err[1]
    }

    /// The log and its map, for appending. Neither is followed if it is a
    /// link. The map is put right (`repairMap`) before a log of that name
    /// exists: a reader pairs them by name. On a failure nothing stays open.
    /// `undescribed`: bytes at the log's end the repair could not describe
    /// (a full disk): the relay describes them with its first record.
    private static func openFiles(_ path: String, limit: Int) throws -> (log: Int32, size: Int, map: Int32, mapSize: Int, undescribed: Int) {
        let mapPath = LogStreamMap.path(of: path)
        var log = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard log >= 0 || errno == ENOENT else { throw NookError.sys("open log '\(path)'", path: path, errno: errno) }
        var st = stat()
        let size = log >= 0 && fstat(log, &st) == 0 ? Int(st.st_size) : 0
        var map = open(mapPath, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        var undescribed = 0
        do {
            guard map >= 0 else { throw NookError.sys("open log '\(mapPath)'", path: mapPath, errno: errno) }
            undescribed = try repairMap(path, limit: limit, map: &map, size: size)
            if log < 0 {
                log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard log >= 0 else { throw NookError.sys("open log '\(path)'", path: path, errno: errno) }
            }
        } catch {
            if log >= 0 { close(log) }
            if map >= 0 { close(map) }
            throw error
        }
        return (log, size, map, fstat(map, &st) == 0 ? Int(st.st_size) : 0, undescribed)
    }

    /// A monitor killed at the wrong moment leaves the map out of step with
    /// the log, and every later record would be read against the wrong bytes:
    /// a piece without its record (killed between the two writes, or a full
    /// disk), a record cut short, or a rotation cut between its two renames
    /// (the map still describes container.log.1). Put right before anything
    /// is added: bytes no record describes become one piece of nook's (their
    /// stream is not known). Returns how many of them a full disk kept undescribed.
    private static func repairMap(_ path: String, limit: Int, map: inout Int32, size: Int) throws -> Int {
        var st = stat()
        guard fstat(map, &st) == 0 else { return 0 }
        let mapSize = Int(st.st_size)
        guard mapSize > 0 || size > 0 else { return 0 }  // a new log: every first start
        let unit = LogStreamMap.recordSize
        // At most a record per byte of a full log; a bigger map is not one a relay wrote: nothing of it is read.
        let described = mapSize <= unit * (limit + 1) ? describedBytes(map, records: mapSize / unit) : nil
        if let described, described <= size {
            if mapSize % unit != 0 { _ = ftruncate(map, off_t(mapSize - mapSize % unit)) }
            return describeNook(map, size - described, limit: limit)
        }
        // More than the log holds: the rotated log's map (a rotation cut short) goes with it; any other is replaced.
        let rotated = path + ".1"
        if let described, mapSize % unit == 0, stat(rotated, &st) == 0, Int(st.st_size) == described {
            rename(LogStreamMap.path(of: path), LogStreamMap.path(of: rotated))
            close(map)
            map = open(LogStreamMap.path(of: path), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard map >= 0 else { throw NookError.sys("open log '\(LogStreamMap.path(of: path))'", path: LogStreamMap.path(of: path), errno: errno) }
        } else {
            _ = ftruncate(map, 0)
        }
        return describeNook(map, size, limit: limit)
    }

    /// `count` bytes of nook's, in records of at most `limit` bytes (what a
    /// reader takes at once); how many a full disk kept undescribed.
    private static func describeNook(_ map: Int32, _ count: Int, limit: Int) -> Int {
        var left = count
        while left > 0 {
            let piece = min(left, limit)
            guard appendRecord(map, .nook, piece) else { return left }
            left -= piece
        }
        return 0
    }

    /// The bytes the first `records` records of the map describe (nil: unreadable).
    private static func describedBytes(_ map: Int32, records: Int) -> Int? {
        let unit = LogStreamMap.recordSize
        var bytes = [UInt8](repeating: 0, count: records * unit)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(map, $0.baseAddress! + done, $0.count - done, off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return stride(from: 0, to: bytes.count, by: unit).reduce(0) { $0 + LogStreamMap.decode(bytes[$1..<$1 + unit]).count }
    }

    /// One record, whole or not at all (one cut short by a full disk is taken
    /// back, so the next is read from the right place): whether it went out.
    private static func appendRecord(_ map: Int32, _ stream: LogStreamMap.Stream, _ count: Int, mapSize: Int? = nil) -> Bool {
        let record = LogStreamMap.record(stream, count: count)
        guard writeAll(map, record, record.count) == record.count else {
            var st = stat()
            if let size = mapSize ?? (fstat(map, &st) == 0 ? Int(st.st_size) / LogStreamMap.recordSize * LogStreamMap.recordSize : nil) {
                _ = ftruncate(map, off_t(size))
            }
            return false
        }
        return true
    }

    var openSources: [Int32] { sources }

    /// Our copies of the write ends go once the container has its own.
    package func closeContainerEnds() {
        close(containerStdout)
        close(containerStderr)
    }

    func pump(_ source: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        let n = read(source, &buffer, buffer.count)
        if n <= 0 {
            if n == 0 || errno != EINTR { sources.removeAll { $0 == source }; close(source) }
            return
        }
        append(buffer, n, from: stream(of: source))
    }

    private func stream(of source: Int32) -> LogStreamMap.Stream { source == stdoutSource ? .stdout : .stderr }

    func drain() {
        for source in sources {
            _ = fcntl(source, F_SETFL, fcntl(source, F_GETFL) | O_NONBLOCK)
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let n = read(source, &buffer, buffer.count)
                if n <= 0 { break }
                append(buffer, n, from: stream(of: source))
            }
        }
    }

    /// A line of nook's own (e.g. why the container was killed), after the container's output.
    package func note(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        append(bytes, bytes.count, from: .nook)
    }

    /// A line of nook's own, appended to the log at `path` when no relay runs
    /// (a restart that failed before it made one). One line may take the log
    /// past its limit: the next relay rotates it. Without its record (a full
    /// disk) the next relay describes it.
    package static func note(_ line: String, inLogAt path: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }  // no log (removed meanwhile): nobody to tell
        defer { close(fd) }
        let mapFD = open(LogStreamMap.path(of: path), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard mapFD >= 0 else { return }
        defer { close(mapFD) }
        let bytes = Array((line + "\n").utf8)
        let written = writeAll(fd, bytes, bytes.count)
        if written > 0 { _ = appendRecord(mapFD, .nook, written) }
    }

    /// The bytes first, then their record: a reader never sees a record for
    /// bytes not yet there. Bytes whose record cannot go out (a full disk)
    /// keep their place in the log and are described by the next record that
    /// does: nothing a reader was given is taken back.
    private func append(_ buffer: [UInt8], _ n: Int, from stream: LogStreamMap.Stream) {
        if size + n > limit {
            // The old log's bytes not yet described get their record now if they can.
            if let earlier = undescribed, describe(earlier.stream, earlier.count) { undescribed = nil }
            close(fd)
            close(mapFD)
            rename(path, path + ".1")
            // A reader that opens a log and then a map may find them from different files here.
            FaultPoint.reached("log.rotate")
            rename(LogStreamMap.path(of: path), LogStreamMap.path(of: path + ".1"))
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
            mapFD = open(LogStreamMap.path(of: path), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
            // The old log's undescribed end stays so: its map ends before it, and nothing follows there.
            (size, mapSize, undescribed) = (0, 0, nil)
        }
        let written = Self.writeAll(fd, buffer, n)
        guard written > 0 else { return }  // nothing went out: nothing to describe
        size += written
        if let earlier = undescribed, describe(earlier.stream, earlier.count) { undescribed = nil }
        if undescribed == nil, describe(stream, written) { return }
        undescribed = undescribed.map { ($0.stream == stream ? stream : .nook, $0.count + written) } ?? (stream, written)
    }

    private func describe(_ stream: LogStreamMap.Stream, _ count: Int) -> Bool {
        guard Self.appendRecord(mapFD, stream, count, mapSize: mapSize) else { return false }
        mapSize += LogStreamMap.recordSize
        return true
    }

    /// How many of `n` bytes went out (fewer only on an error).
    private static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ n: Int) -> Int {
        var offset = 0
        while offset < n {
            let w = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, n - offset) }
            if w < 0 { if errno == EINTR { continue }; break }
            offset += w
        }
        return offset
    }

    deinit {
        drain()
        for s in sources { close(s) }
        close(fd)
        close(mapFD)
    }
}

@inline(__always) func nook_pipe_cloexec_checked(_ fds: inout [Int32]) -> Bool {
    nook_pipe_cloexec(&fds) == 0
}
