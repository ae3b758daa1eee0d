import CShims
import Foundation
import Glibc
import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// The start waiter nook embeds (CShims/waiter/waiter.c, `StartWaiter`).
final class StartWaiterTests: XCTestCase {
    func testArgumentsAreInTheOrderTheWaiterReadsThem() {
        let args = StartWaiter.arguments(syncFD: 7, fifoFD: 8, seccompFD: -1, instructions: 0, trace: true,
                                         candidates: ["/usr/bin/sh", "/bin/sh"], argv: ["sh", "-c", "true"])
        XCTAssertEqual(args, ["nook-wait", "7", "8", "-1", "0", "1", "2", "/usr/bin/sh", "/bin/sh", "sh", "-c", "true"])
    }

    /// A static executable (no PT_INTERP: the container's ld.so never runs
    /// for it) for this machine, in a memfd carrying all our seals.
    func testEmbeddedImageIsAStaticExecutableForThisMachineAndRunsSealed() throws {
        let fd = try StartWaiter.sealedImage()
        defer { close(fd) }
        XCTAssertEqual(nook_contents_sealed(fd), 1)
        let dir = try TempDir()
        defer { dir.remove() }
        var length = 0
        let image = try XCTUnwrap(nook_waiter_image(&length))
        let path = dir.path + "/nook-wait"
        try Data(bytes: image, count: length).write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(try ELF.isStatic(path))
        let machine = UInt16(image[18]) | UInt16(image[19]) << 8
        #if arch(x86_64)
        XCTAssertEqual(machine, 62) // EM_X86_64
        #elseif arch(arm64)
        XCTAssertEqual(machine, 183) // EM_AARCH64
        #endif
        XCTAssertEqual(image[16], 2, "ET_EXEC")
    }

    /// The checked-in bytes are what Scripts/build-waiter.sh builds from the
    /// source, with the compiler it recorded (another clang may lay them out
    /// otherwise: then this skips).
    func testEmbeddedImageIsWhatTheSourceBuildsTo() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let generated = try String(contentsOfFile: root + "/CShims/waiter_image.c", encoding: .utf8)
        let recorded = generated.split(separator: "\n").first { $0.hasPrefix("// Built with: ") }.map { String($0.dropFirst(15)) } ?? ""
        // The Swift toolchain's clang wherever it is installed: on PATH first.
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let compilers = (path + ["/opt/swift/usr/bin", "/usr/bin"]).map { $0 + "/clang" }
        guard let clang = compilers.first(where: { access($0, X_OK) == 0 }),
              try run([clang, "--version"]).output.split(separator: "\n").first.map(String.init) == recorded else {
            throw XCTSkip("no clang here, or not the one that built CShims/waiter_image.c (\(recorded))")
        }
        let check = try run(["/bin/bash", root + "/Scripts/build-waiter.sh", "--check"], env: ["CC": clang, "PATH": URL(fileURLWithPath: clang).deletingLastPathComponent().path + ":/usr/bin:/bin"])
        XCTAssertEqual(check.status, 0, check.output)
    }

    func run(_ argv: [String], env: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        if let env { p.environment = env }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
