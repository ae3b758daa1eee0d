import Foundation
import XCTest

/// The fuzzers of issue 16: a structure-aware config.json fuzzer and a flag
/// fuzzer for `run`, `create` and `exec` (FuzzWorker says what each case must
/// satisfy). Fixed seed and count in CI; more on demand:
///   NOOK_FUZZ_SEED=N        another seed (default 16)
///   NOOK_FUZZ_CASES=N       cases per fuzzer (default 600: 1,200 in all)
///   NOOK_FUZZ_CASE=I        only case I (to reproduce a failure)
/// Cases run on two workers at once, one per test user; case I always runs on
/// worker I % 2, so a seed and a case number reproduce it exactly.
final class FuzzTests: XCTestCase {
    static let environment = ProcessInfo.processInfo.environment
    static let seed = UInt64(environment["NOOK_FUZZ_SEED"] ?? "") ?? 16
    static let count = Int(environment["NOOK_FUZZ_CASES"] ?? "") ?? 600
    static let only = Int(environment["NOOK_FUZZ_CASE"] ?? "")

    static let workers: Result<[FuzzWorker], Error> = Result {
        [try FuzzWorker(user: Harness.shared.user, label: "a"),
         try FuzzWorker(user: Harness.shared.isRoot ? Harness.withoutRange : Harness.shared.user, label: "b")]
    }

    override class func tearDown() {
        if case .success(let workers) = workers { workers.forEach { $0.finish() } }
    }

    /// Runs the cases on the workers side by side (`runCase` returns a failure's
    /// report, or nil), prints the count, and fails the test once per failed case.
    func fuzz(_ name: String, _ runCase: @escaping @Sendable (FuzzWorker, Int) -> String?) throws {
        let workers = try FuzzTests.workers.get()
        let indices = FuzzTests.only.map { [$0] } ?? Array(0..<FuzzTests.count)
        let lock = NSLock()
        nonisolated(unsafe) var reports: [Int: String] = [:]
        nonisolated(unsafe) var passed = 0
        workers.forEach { $0.accepted = 0; $0.refused = 0 }
        DispatchQueue.concurrentPerform(iterations: workers.count) { w in
            for i in indices where i % workers.count == w {
                let report = runCase(workers[w], i)
                lock.lock()
                if let report { reports[i] = report } else { passed += 1 }
                lock.unlock()
            }
        }
        print("\(name) fuzz, seed \(FuzzTests.seed): \(passed) passed, \(reports.count) failed"
              + " (nook ran \(workers.map(\.accepted).reduce(0, +)) accepted, \(workers.map(\.refused).reduce(0, +)) refused)")
        for (i, report) in reports.sorted(by: { $0.key < $1.key }) {
            let message = "\(name) case \(i) (reproduce: NOOK_FUZZ_SEED=\(FuzzTests.seed) NOOK_FUZZ_CASE=\(i) swift test --skip-build --filter FuzzTests)\n\(report)"
            XCTFail(message)
        }
    }

    func testConfigJSON() throws {
        try fuzz("config.json") { worker, i in
            let seed = FuzzTests.seed
            var c = worker.configCase(i, seed: seed)
            guard let failure = worker.run(c, index: i) else { return nil }
            // Minimal: drop each change while the same failure stays.
            var j = 0
            while j < c.mutations.count && c.mutations.count > 1 {
                var smaller = c
                smaller.mutations.remove(at: j)
                if let again = worker.run(smaller, index: i), again.kind == failure.kind { c = smaller } else { j += 1 }
            }
            let text = String(decoding: worker.document(c), as: UTF8.self)
            return """
              \(failure)
              \(c.create ? "nook create" : "nook run --bundle") on \(c.base == 0 ? "runc spec --rootless" : "nook spec") with:
              \(c.mutations.map { "  " + $0.description }.joined(separator: "\n  "))
              config.json (\(text.utf8.count) bytes): \(text.count > 1500 ? String(text.prefix(1500)) + "..." : text)
            """
        }
    }

    func testFlags() throws {
        try fuzz("flags") { worker, i in
            let seed = FuzzTests.seed
            var c = worker.flagCase(i, seed: seed)
            guard let failure = worker.run(c, index: i, seed: seed) else { return nil }
            for list in [\FlagCase.items, \FlagCase.global] {
                var j = 0
                while j < c[keyPath: list].count {
                    var smaller = c
                    smaller[keyPath: list].remove(at: j)
                    if let again = worker.run(smaller, index: i, seed: seed), again.kind == failure.kind { c = smaller } else { j += 1 }
                }
            }
            let argv = c.argv(bundle: worker.bundle, execTarget: worker.execTarget).map { FuzzJSON.quoted($0) }.joined(separator: " ")
            let process = c.items.contains { $0.first == "--process" } ? "\n  process.json: " + ((try? String(contentsOfFile: worker.processFile, encoding: .utf8)) ?? "").prefix(1500) : ""
            return "  \(failure)\n  as \(worker.user.name): nook \(argv)\(process)"
        }
    }
}
