import NookRuntime

/// Runs blocking runtime work (it waits on pipes, locks and processes) on a
/// thread of its own, so it never holds one of the cooperative pool's few
/// threads. The work itself is not cancelled: what it starts, it finishes.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
        do {
            try BackgroundThread.start { continuation.resume(with: Result { try work() }) }
        } catch {
            continuation.resume(throwing: error)
        }
    }
}
