import XCTest
import Glibc
import Foundation
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// Asserts that `body` throws a `NookError` and hands it to `check`.
/// Fails (rather than passing silently) when nothing or something else is thrown.
@discardableResult
func assertNookError<T>(_ body: @autoclosure () throws -> T, _ message: String = "",
                        file: StaticString = #filePath, line: UInt = #line,
                        _ check: (NookError) -> Void = { _ in }) -> NookError? {
    do {
        let value = try body()
        XCTFail("expected a NookError, got \(value) \(message)", file: file, line: line)
        return nil
    } catch let error as NookError {
        check(error)
        return error
    } catch {
        XCTFail("expected a NookError, got \(type(of: error)): \(error) \(message)", file: file, line: line)
        return nil
    }
}

/// `haystack` contains `needle`, with both shown on failure.
func assertContains(_ haystack: String, _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(haystack.contains(needle), "'\(haystack)' does not contain '\(needle)'", file: file, line: line)
}

/// A fresh directory under /tmp, removed with everything in it by `remove()`.
final class TempDir {
    let path: String

    init(_ prefix: String = "nook-unit") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw NookError.sys("mkdtemp", errno: errno) }
        path = String(cString: p)
    }

    func file(_ name: String, _ contents: String, mode: mode_t = 0o644) throws -> String {
        let full = path + "/" + name
        try HostPath.writeText(full, contents, create: true, mode: mode)
        return full
    }

    func dir(_ name: String, mode: mode_t = 0o755) throws -> String {
        let full = path + "/" + name
        guard mkdir(full, mode) == 0 else { throw NookError.sys("mkdir \(full)", errno: errno) }
        return full
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Kernel ABI values, written out independently of the code under test
/// (<linux/mount.h>, <sys/mount.h>, <sched.h>).
enum ABI {
    static let MS_RDONLY: UInt = 1
    static let MS_NOSUID: UInt = 2
    static let MS_NODEV: UInt = 4
    static let MS_NOEXEC: UInt = 8
    static let MS_SYNCHRONOUS: UInt = 16
    static let MS_NOATIME: UInt = 1024
    static let MS_RELATIME: UInt = 1 << 21
    static let MS_STRICTATIME: UInt = 1 << 24

    static let MOUNT_ATTR_RDONLY: UInt64 = 0x1
    static let MOUNT_ATTR_NOSUID: UInt64 = 0x2
    static let MOUNT_ATTR_NODEV: UInt64 = 0x4
    static let MOUNT_ATTR_NOEXEC: UInt64 = 0x8

    static let CLONE_NEWNS: UInt = 0x0002_0000
    static let CLONE_NEWCGROUP: UInt = 0x0200_0000
    static let CLONE_NEWUTS: UInt = 0x0400_0000
    static let CLONE_NEWIPC: UInt = 0x0800_0000
    static let CLONE_NEWUSER: UInt = 0x1000_0000
    static let CLONE_NEWPID: UInt = 0x2000_0000
    static let CLONE_NEWNET: UInt = 0x4000_0000
}

/// Starts `argv` with posix_spawn (no shell) and returns its pid. The caller reaps it.
func spawnProcess(_ argv: [String]) throws -> pid_t {
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], nil, nil, cArgs, environ)
    guard rc == 0 else { throw NookError.sys("posix_spawn \(argv[0])", errno: rc) }
    return pid
}

/// waitpid, retrying on EINTR; returns the raw wait status.
func reap(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}

/// The default rootless spec for `args` in `rootfs` (what `nook run` builds).
func defaultSpec(rootfs: String, args: [String] = ["sh"], hostname: String? = "box") -> Spec {
    SpecDefaults.spec(rootfs: rootfs, args: args, hostname: hostname)
}

/// Runs `body` on another thread and gives up after `seconds`: a read that
/// blocks (a FIFO) fails the test instead of hanging the suite.
func withDeadline<T: Sendable>(_ seconds: Double, file: StaticString = #filePath, line: UInt = #line,
                               _ body: @escaping @Sendable () throws -> T) throws -> T {
    let box = DeadlineBox<T>()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        box.result = Result { try body() }
        done.signal()
    }
    guard done.wait(timeout: .now() + seconds) == .success, let result = box.result else {
        XCTFail("still running after \(seconds) s: it blocks", file: file, line: line)
        throw NookError("timed out")
    }
    return try result.get()
}

/// What the thread of `withDeadline` hands back (read only after the semaphore).
final class DeadlineBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

/// A thread-safe line collector for `Tracer`'s sink.
final class TraceLines: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []

    var lines: [String] { lock.lock(); defer { lock.unlock() }; return storage }

    var sink: @Sendable (String) -> Void {
        { [self] line in lock.lock(); storage.append(line); lock.unlock() }
    }
}
