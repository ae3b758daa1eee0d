import Glibc

/// Seconds on the monotonic clock: deadlines that no change of the date moves.
package enum Monotonic {
    package static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
