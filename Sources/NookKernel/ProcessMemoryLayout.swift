import CShims
import NookCore

/// Where this process's argv and environment strings are, with the other
/// addresses prctl(PR_SET_MM_MAP) takes back unchanged: the fields of
/// /proc/self/stat from `startcode` on (proc(5)). The container's child, a
/// copy of nook, wipes those strings before anything else (`nook_hide_args`
/// in CShims/process_title.c): nook's command line and environment are the host's.
package struct ProcessMemoryLayout: Sendable, Equatable {
    package var startCode: UInt64 = 0, endCode: UInt64 = 0, startData: UInt64 = 0, endData: UInt64 = 0
    package var startBrk: UInt64 = 0, startStack: UInt64 = 0
    package var argStart: UInt64 = 0, argEnd: UInt64 = 0, envStart: UInt64 = 0, envEnd: UInt64 = 0

    /// This process's, read once (the kernel fixes them at execve); nil when
    /// /proc/self/stat is unreadable or hides them.
    package static let current: ProcessMemoryLayout? = {
        (try? HostPath.readText("/proc/self/stat")).flatMap(parse)  // no /proc: arguments are not hidden, nothing else depends on it
    }()

    /// From the text of /proc/PID/stat. The command name (field 2) may hold
    /// spaces and parentheses: fields are counted after its last ')'.
    package static func parse(_ stat: String) -> ProcessMemoryLayout? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // Field 3 (state) is the first after the name.
        let rest = stat[stat.index(after: close)...].split(whereSeparator: { $0 == " " || $0 == "\n" })
        func field(_ n: Int) -> UInt64? { n - 3 < rest.count ? UInt64(rest[n - 3]) : nil }
        guard let startCode = field(26), let endCode = field(27), let startStack = field(28),
              let startData = field(45), let endData = field(46), let startBrk = field(47),
              let argStart = field(48), let argEnd = field(49), let envStart = field(50), let envEnd = field(51),
              argStart != 0, argEnd > argStart, envEnd >= envStart else { return nil }
        return ProcessMemoryLayout(startCode: startCode, endCode: endCode, startData: startData, endData: endData,
                                   startBrk: startBrk, startStack: startStack,
                                   argStart: argStart, argEnd: argEnd, envStart: envStart, envEnd: envEnd)
    }

    var c: nook_mm_layout {
        nook_mm_layout(start_code: startCode, end_code: endCode, start_data: startData, end_data: endData,
                       start_brk: startBrk, start_stack: startStack,
                       arg_start: argStart, arg_end: argEnd, env_start: envStart, env_end: envEnd)
    }

    /// Shows `title` as this process's command line from now on. For every
    /// nook command once parsed, and for the `run -d` monitor: a container
    /// without a PID namespace of its own sees them, and their arguments name
    /// host paths and secrets (`-e KEY=VALUE`). The environment stays (nook
    /// still reads it, to find pasta for one; only its own user may read it).
    /// Call it once the arguments are parsed: CommandLine.arguments keeps its copy.
    package static func hideArguments(title: String) {
        guard let layout = current else { return }
        var mm = layout.c
        nook_hide_args(&mm, title, 0)
    }
}
