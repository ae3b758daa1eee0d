import XCTest
import Glibc
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class ELFTests: XCTestCase {
    func testStaticBusybox() throws {
        guard HostPath.exists("/bin/busybox") else { throw XCTSkip("apt-get install -y busybox-static") }
        XCTAssertTrue(try ELF.isStatic("/bin/busybox"))
    }

    func testDynamicLs() throws {
        XCTAssertFalse(try ELF.isStatic("/bin/ls"))
        XCTAssertFalse(try ELF.isStatic("/bin/sh"))
    }

    func testNotAnELF() throws {
        let tmp = try TempDir("nook-elf")
        defer { tmp.remove() }
        let script = try tmp.file("script", "#!/bin/sh\n" + String(repeating: "echo hello\n", count: 10), mode: 0o755)
        assertNookError(try ELF.isStatic(script)) { e in
            XCTAssertEqual(e.message, "'\(script)' is not a valid 64-bit ELF executable")
        }
        let short = try tmp.file("short", "\u{7f}ELF")
        assertNookError(try ELF.isStatic(short)) { e in assertContains(e.message, "not a valid 64-bit ELF") }
        assertNookError(try ELF.isStatic(tmp.path + "/missing")) { e in
            assertContains(e.message, "no such file or directory")
        }
    }
}

final class RootfsBuilderTests: XCTestCase {
    func testBusyboxRootfs() throws {
        guard HostPath.exists("/bin/busybox") else { throw XCTSkip("apt-get install -y busybox-static") }
        let tmp = try TempDir("nook-rootfs")
        defer { tmp.remove() }
        let dir = tmp.path + "/rootfs"
        let applets = try RootfsBuilder.busybox(at: dir)
        XCTAssertGreaterThan(applets, 100)
        XCTAssertTrue(try ELF.isStatic(dir + "/bin/busybox"))
        var buf = [UInt8](repeating: 0, count: 256)
        let n = buf.withUnsafeMutableBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { readlink(dir + "/bin/sh", $0, p.count) }
        }
        XCTAssertGreaterThan(n, 0)
        XCTAssertEqual(String(decoding: buf.prefix(max(n, 0)), as: UTF8.self), "../bin/busybox")
        // /bin/sh resolves to the copied busybox and runs
        let r = try HelperProcess.runCapturing([dir + "/bin/sh", "-c", "echo ok"])
        XCTAssertEqual(r.output, "ok\n")
        assertContains(try HostPath.readText(dir + "/etc/group"), "tty:x:5:")
        var st = stat()
        XCTAssertEqual(stat(dir + "/tmp", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o1777)
    }

    func testRefusesAnEmptyDirectory() throws {
        let tmp = try TempDir("nook-rootfs")
        defer { tmp.remove() }
        let cwd = HostPath.currentDirectory()
        XCTAssertEqual(chdir(tmp.path), 0)
        defer { _ = chdir(cwd) }
        assertNookError(try RootfsBuilder.busybox(at: "")) { e in
            XCTAssertEqual(e.message, "the directory to create is empty ('')")
        }
        XCTAssertEqual(HostPath.subdirectories(tmp.path), [], "nothing unpacked into the current directory")
    }

    func testRefusesABusyboxThatIsNotARegularFile() throws {
        let tmp = try TempDir("nook-rootfs")
        defer { tmp.remove() }
        assertNookError(try RootfsBuilder.busybox(at: tmp.path + "/r", busybox: "/dev/zero")) { e in
            XCTAssertEqual(e.message, "'/dev/zero': a character device, not a regular file")
        }
    }

    func testRefusesADynamicBusybox() throws {
        let tmp = try TempDir("nook-rootfs")
        defer { tmp.remove() }
        assertNookError(try RootfsBuilder.busybox(at: tmp.path + "/r", busybox: "/bin/ls")) { e in
            assertContains(e.message, "is dynamically linked")
        }
        assertNookError(try RootfsBuilder.busybox(at: tmp.path + "/r", busybox: tmp.path + "/none")) { e in
            assertContains(e.message, "not found")
        }
        let file = try tmp.file("afile", "x")
        assertNookError(try RootfsBuilder.busybox(at: file)) { e in
            assertContains(e.message, "exists and is not a directory")
        }
    }
}
