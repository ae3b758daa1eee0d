import Glibc
import NookCore
import NookKernel

/// A container's cgroup directory.
package struct ContainerCgroup: Sendable, Equatable {
    package var path: String
    /// Set when nook moved itself into `<own>/nook-supervisor` to place this cgroup below its own.
    package var supervisor: SupervisorLeaf?

    package struct SupervisorLeaf: Sendable, Equatable {
        package var own: String
        /// Controllers nook enabled in `<own>/cgroup.subtree_control` (disabled again when it leaves).
        package var added: [String]
    }

    package init(path: String) { self.path = path }

    /// For clone3(CLONE_INTO_CGROUP): the child starts inside, no race.
    package func openDirectory() throws -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw NookError.sys("open cgroup '\(path)'", path: path, errno: errno) }
        return fd
    }

    package func read(_ file: String) -> String? {
        // a value that cannot be read is reported as absent (stats show '-')
        (try? HostPath.readText(path + "/" + file))?.trimmingCharacters(in: " \n")
    }

    /// A key from a flat-keyed file like memory.events ("oom_kill 1").
    package func value(_ file: String, _ key: String) -> UInt64? {
        guard let text = read(file) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 && parts[0] == key { return UInt64(parts[1]) }
        }
        return nil
    }

    /// Kills anything left, then removes the directory.
    package func remove() throws {
        guard HostPath.isDirectory(path) else { return }
        try? HostPath.writeText(path + "/cgroup.kill", "1")  // no cgroup.kill (before Linux 5.14): a process left makes the rmdir below fail, and say so
        for _ in 0..<200 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            if errno != EBUSY { break }
            usleep(5_000)
        }
        if rmdir(path) != 0 && errno != ENOENT { throw NookError.sys("remove cgroup '\(path)'", path: path, errno: errno) }
    }

    package func freeze(_ frozen: Bool) throws {
        try HostPath.writeText(path + "/cgroup.freeze", frozen ? "1" : "0")
    }
}
