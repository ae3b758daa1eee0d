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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nook)
        process.arguments = ["rootfs", "busybox", directory + "/rootfs"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ContainerError("\(nook) rootfs busybox \(directory)/rootfs exited \(process.terminationStatus)")
        }
        madeDirectory = directory
        atexit { if let directory = BusyboxRootfs.madeDirectory { try? FileManager.default.removeItem(atPath: directory) } }
        return directory + "/rootfs"
    }

    /// What `atexit` removes (only this process's own rootfs, never `$ROOTFS`).
    nonisolated(unsafe) private static var madeDirectory: String?
}
