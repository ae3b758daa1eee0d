import CShims
import Foundation

/// Drives a program through a real pseudo-terminal, the way a person at a
/// terminal would: the program gets the pty as its controlling terminal
/// (util-linux `setsid --ctty`), the test reads and writes the master side.
final class PtySession: @unchecked Sendable {
    let master: Int32
    let process = Process()
    private(set) var output = ""

    init(_ argv: [String], rows: UInt16 = 24, cols: UInt16 = 80) throws {
        var m: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        guard nook_open_pty(&m, &name, name.count) == 0 else { throw NSError(domain: "pty", code: Int(errno)) }
        master = m
        let slavePath = String(cString: name)
        PtySession.setSize(master, rows: rows, cols: cols)
        let slave = FileHandle(forUpdatingAtPath: slavePath)!
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["--ctty", "--wait"] + argv
        process.standardInput = slave
        process.standardOutput = slave
        process.standardError = slave
        try process.run()
        try slave.close()
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    static func setSize(_ fd: Int32, rows: UInt16, cols: UInt16) {
        _ = nook_set_winsize(fd, rows, cols)
    }

    func resize(rows: UInt16, cols: UInt16) { PtySession.setSize(master, rows: rows, cols: cols) }

    func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(master, &bytes, bytes.count)
    }

    /// Reads until `needle` has appeared in the output since `from`, or the timeout.
    @discardableResult
    func expect(_ needle: String, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump()
            if output.contains(needle) { return true }
            usleep(10_000)
        }
        return false
    }

    /// Forgets what was read so far, so the next `expect` sees only new output.
    func clear() {
        pump()
        output = ""
    }

    func pump() {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(master, &buf, buf.count)
            if n <= 0 { break }
            output += String(decoding: buf[0..<n], as: UTF8.self)
        }
    }

    /// Exit status of the program (setsid --wait passes it through).
    func wait(timeout: TimeInterval = 20) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            pump()
            usleep(10_000)
        }
        pump()
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        close(master)
    }
}
