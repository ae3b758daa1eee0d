import Glibc
import NookCore

/// A plain detached thread for work that blocks in the kernel (poll, waitid):
/// such work must not hold a thread of Swift's cooperative pool, and a
/// monitor, which is no async program, has no pool to give it.
package enum BackgroundThread {
    package static func start(_ body: @escaping @Sendable () -> Void) throws {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box)
        guard started == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw NookError.sys("pthread_create", errno: started)
        }
        pthread_detach(thread)
    }

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
