import Glibc
import Foundation
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// A fake kernel for the Supervisor: records every call in order and plays
/// back a scripted child. Nothing here decides what the Supervisor does; it
/// only answers the way the real kernel would.
final class RecordingKernel: KernelInterface {
    enum Call: Equatable, CustomStringConvertible {
        case socketPair
        case spawn(syncFD: Int32)
        case writeFile(String, String)
        case runHelper([String])
        case sendGo(Int32)
        case receive(Int32)
        case wait(pid_t, [Int32])
        case signal(pid_t, Int32)
        case reap(pid_t)
        case adopt(pid_t)
        case close(Int32)
        /// Something the test itself did (e.g. inside beforeRelease), in the same timeline.
        case note(String)

        var description: String {
            switch self {
            case .socketPair: "socketPair"
            case .spawn(let fd): "spawn(syncFD: \(fd))"
            case .writeFile(let p, let c): "writeFile(\(p), \(c.debugDescription))"
            case .runHelper(let argv): "runHelper(\(argv.joined(separator: " ")))"
            case .sendGo(let fd): "sendGo(\(fd))"
            case .receive(let fd): "receive(\(fd))"
            case .wait(let pid, let sigs): "wait(\(pid), \(sigs))"
            case .signal(let pid, let sig): "signal(\(pid), \(sig))"
            case .reap(let pid): "reap(\(pid))"
            case .adopt(let pid): "adopt(\(pid))"
            case .close(let fd): "close(\(fd))"
            case .note(let s): "note(\(s))"
            }
        }
    }

    var calls: [Call] = []
    let parentFD: Int32 = 10
    let childFD: Int32 = 11
    var process = SpawnedProcess(pid: 4242, pidfd: 77)

    /// What the child sends, in order; after the last one, EOF.
    var messages: [ChildMessage] = []
    var spawnError: Error?
    var writeErrors: [String: Error] = [:]
    /// Helper name (argv[0]) -> (status, stderr). Unlisted helpers succeed.
    var helperResults: [String: (Int32, String)] = [:]
    var waitStatus: ExitStatus = .exited(0)
    var spawnedOptions: SpawnOptions?
    var spawnedPlan: ChildPlan?

    func socketPair() throws -> (parent: Int32, child: Int32) {
        calls.append(.socketPair)
        return (parentFD, childFD)
    }

    func spawn(_ plan: ChildPlan, syncFD: Int32, options: SpawnOptions) throws -> SpawnedProcess {
        calls.append(.spawn(syncFD: syncFD))
        spawnedPlan = plan
        spawnedOptions = options
        if let spawnError { throw spawnError }
        return process
    }

    func writeFile(_ path: String, _ contents: String) throws {
        calls.append(.writeFile(path, contents))
        if let e = writeErrors[path] { throw e }
    }

    func runHelper(_ argv: [String]) throws -> (status: Int32, errorOutput: String) {
        calls.append(.runHelper(argv))
        let r = helperResults[argv[0]] ?? (0, "")
        return (r.0, r.1)
    }

    func sendGo(_ fd: Int32) throws { calls.append(.sendGo(fd)) }

    func receive(_ fd: Int32) throws -> ChildMessage? {
        calls.append(.receive(fd))
        return messages.isEmpty ? nil : messages.removeFirst()
    }

    func wait(_ process: SpawnedProcess, forwarding signals: [Int32]) throws -> ExitStatus {
        calls.append(.wait(process.pid, signals))
        return waitStatus
    }

    func signal(_ process: SpawnedProcess, _ sig: Int32) throws { calls.append(.signal(process.pid, sig)) }

    func reap(_ pid: pid_t) { calls.append(.reap(pid)) }

    /// The adopted process gets pidfd 88.
    func adopt(_ pid: pid_t) throws -> SpawnedProcess {
        calls.append(.adopt(pid))
        return SpawnedProcess(pid: pid, pidfd: 88)
    }

    /// Like LiveKernel, closing "no fd" (-1) is a no-op, so it is not recorded.
    func close(_ fd: Int32) { if fd >= 0 { calls.append(.close(fd)) } }

    /// The calls after the first one equal to `call`.
    func calls(after call: Call) -> ArraySlice<Call> {
        guard let i = calls.firstIndex(of: call) else { return [] }
        return calls[(i + 1)...]
    }
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
