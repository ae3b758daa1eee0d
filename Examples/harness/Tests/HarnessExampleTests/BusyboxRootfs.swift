import Foundation
import NookKit

/// The root filesystem every test here runs in: `$ROOTFS` when set (run.sh
/// stages one), else a busybox rootfs made once per test process by
/// `nook rootfs busybox DIR`, with the nook NookKit finds for its monitors
/// (`$NOOK_BINARY`, beside the test binary, then `PATH`), and removed at exit.
enum BusyboxRootfs {
    static var path: String {
        get throws { try made.get() }
    }

    private static let made = Result<String, Error> {
        let environment = ProcessInfo.processInfo.environment
        if let given = environment["ROOTFS"], !given.isEmpty { return given }
        let nook = try MonitorExecutable.locate.resolve(environment: environment)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("nook-harness-example-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let process = Process()
        let errors = Pipe()
        process.executableURL = URL(fileURLWithPath: nook)
        process.arguments = ["rootfs", "busybox", directory + "/rootfs"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw Failed(description: "\(nook) rootfs busybox \(directory)/rootfs exited \(process.terminationStatus): \(said)")
        }
        madeDirectory = directory
        atexit { if let directory = BusyboxRootfs.madeDirectory { try? FileManager.default.removeItem(atPath: directory) } }
        return directory + "/rootfs"
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// What `atexit` removes (only this process's own rootfs, never `$ROOTFS`).
    nonisolated(unsafe) private static var madeDirectory: String?
}
