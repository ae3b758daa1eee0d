import Glibc
import NookCore
import NookKernel
import NookSpec

/// One line of `nook ps`.
package struct ContainerSummary: Codable, Sendable, Equatable {
    package var id: String
    package var status: String
    package var describedStatus: String
    package var pid: Int32
    package var mode: String
    package var command: String
    package var exitCode: Int32?
    /// Why it was killed, when nook knows ("out of memory (memory.max=32M)").
    package var exitReason: String?
    package var created: String
    /// Published ports as podman shows them: "127.0.0.1:8080->80/tcp".
    package var ports: [String]
}

extension Runtime {
    package func summaries() -> [ContainerSummary] {
        reconcile()
        // a container removed or half-written while we list is not listed
        return store.ids().compactMap { try? store.read($0) }.map { state in
            let s = status(of: state)
            var described = s
            if s == "stopped" {
                if state.neverStarted { described = "created" }
                else if let code = state.exitCode { described = "exited (\(code)\(state.exitReason.map { ", " + $0 } ?? ""))" }
                else if state.mode == .detached { described = "stopped (monitor killed)" }
            }
            return ContainerSummary(id: state.id, status: s, describedStatus: described, pid: s == "stopped" ? 0 : state.pid,
                                    mode: state.mode.rawValue, command: state.command ?? "", exitCode: state.exitCode,
                                    exitReason: state.exitReason, created: state.created,
                                    // no spec or no network recorded: no ports to show
                                    ports: ((try? loadSpec(state.id)).flatMap { try? NetworkSettings.recorded(in: $0) }?.ports ?? [])
                                        .map { "\($0.hostIP ?? "0.0.0.0"):\($0.hostPort)->\($0.containerPort)/\($0.proto.rawValue)" })
        }
    }

    /// `nook logs`: the rotated file first, then the current one; with
    /// `follow`, new output as it arrives until the container has stopped.
    package func printLogs(id: String, follow: Bool, tail: Int?, output: ([UInt8]) -> Void) throws {
        let state = try store.read(id)
        guard state.mode == .detached else {
            throw NookError("container '\(id)' has no log", hint: "only containers started with 'nook run -d' keep one")
        }
        let path = store.directory(id) + "/container.log"
        var all = (try? HostPath.readBytes(path + ".1")) ?? []  // no rotated log yet
        all += (try? HostPath.readBytes(path)) ?? []  // no log yet: nothing to show
        if let tail {
            var newlines = 0
            var start = all.count
            for i in stride(from: all.count - 1, through: 0, by: -1) where all[i] == 10 {
                if i == all.count - 1 { continue }
                newlines += 1
                if newlines == tail { start = i + 1; break }
                start = 0
            }
            if newlines < tail { start = 0 }
            all = Array(all[start...])
        }
        output(all)
        guard follow else { return }
        var offset = (try? HostPath.readBytes(path))?.count ?? 0  // no log yet: follow from the start
        while true {
            let current = (try? HostPath.readBytes(path)) ?? []  // rotated or not written yet: nothing new this round
            if current.count < offset { offset = 0 } // rotated
            if current.count > offset { output(Array(current[offset...])); offset = current.count }
            guard let s = try? store.read(id), status(of: s) != "stopped" else {  // removed while followed: stop following
                let last = (try? HostPath.readBytes(path)) ?? []  // as above: the last bytes, if any
                if last.count > offset { output(Array(last[offset...])) }
                return
            }
            usleep(100_000)
        }
    }
}
