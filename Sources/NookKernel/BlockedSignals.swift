import Glibc

/// Signals blocked in this thread until `restore()`: the ones a supervisor
/// forwards, so none is lost or kills it between the clone and the wait
/// (the child unblocks them before exec; the wait reads them from a signalfd).
package struct BlockedSignals {
    private var previous = sigset_t()

    package init(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        sigprocmask(SIG_BLOCK, &set, &previous)
    }

    package func restore() {
        var previous = previous
        sigprocmask(SIG_SETMASK, &previous, nil)
    }
}
