import Foundation
import NookKit
import XCTest

/// A test process killed mid-test leaves nothing behind: the first test runs
/// this test binary again, as a child running only the second test (which
/// starts a container and waits), kills it with SIGKILL while its container
/// runs, and looks for the container's process (by PID), its monitor and its
/// state directory. No reaper: the container's monitor watches the test process.
final class KilledMidTestXCTests: XCTestCase {
    /// Set only in the child: where it reports what it started.
    static let reportVariable = "NOOK_EXAMPLE_CHILD_REPORT"

    func testNothingSurvivesATestProcessKilledMidTest() throws {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("nook-example-child-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: report) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        child.arguments = ["HarnessExampleTests.KilledMidTestXCTests/testChildHoldingAContainer"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.reportVariable] = report
        // The same rootfs: a child making its own could not remove it once killed.
        environment["ROOTFS"] = try BusyboxRootfs.path
        child.environment = environment
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = FileHandle.nullDevice
        try child.run()

        // "PID MONITOR STATEDIR" once its container runs.
        var fields: [String] = []
        for _ in 0..<6000 where fields.count < 3 && child.isRunning {
            usleep(10_000)
            let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
            if text.hasSuffix("\n") { fields = text.split(separator: " ").map { String($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        }
        guard fields.count == 3, let pid = Int32(fields[0]), let monitor = Int32(fields[1]) else {
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            return XCTFail("the child test did not report a running container (exit \(child.terminationStatus))")
        }
        let stateDirectory = fields[2]
        XCTAssertTrue(Self.isRunning(pid) && FileManager.default.fileExists(atPath: stateDirectory))

        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        XCTAssertEqual(child.terminationStatus, SIGKILL)

        // The monitor notices at once; give it time to finish, without a timed assertion.
        func gone() -> Bool {
            !Self.isRunning(pid) && !Self.isRunning(monitor) && !FileManager.default.fileExists(atPath: stateDirectory)
        }
        for _ in 0..<3000 where !gone() { usleep(10_000) }
        XCTAssertFalse(Self.isRunning(pid), "the container's process \(pid) survived its test process")
        XCTAssertFalse(Self.isRunning(monitor), "its monitor \(monitor) survived")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateDirectory), "its state \(stateDirectory) was left")
    }

    /// The child's test (does nothing in a normal run): a container that
    /// would run for a long time, reported, then waiting to be killed.
    func testChildHoldingAContainer() async throws {
        guard let report = ProcessInfo.processInfo.environment[Self.reportVariable] else { return }
        let container = try await ContainerRequest(rootfs: try BusyboxRootfs.path, command: ["sleep", "1000"]).start()
        try "\(container.pid) \(container.monitorPID) \(container.stateDirectory)\n".write(toFile: report, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(600))
    }

    /// Alive and not a zombie (a zombie is a process that ended; its parent has not reaped it yet).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)...].first != "Z"
    }
}
