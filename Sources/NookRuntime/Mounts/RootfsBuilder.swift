import Glibc
import NookCore
import NookKernel
import NookSpec

/// `nook rootfs busybox DIR`: a minimal root filesystem from the host's static busybox.
package enum RootfsBuilder {
    /// Returns the number of applets linked.
    @discardableResult
    package static func busybox(at dir: String, busybox: String = "/bin/busybox") throws -> Int {
        // "" would be the current directory, filled with applet links.
        guard !dir.isEmpty else { throw emptyDirectory }
        guard HostPath.exists(busybox) else {
            throw NookError("'\(busybox)' not found", hint: "install a static busybox: apt-get install busybox-static")
        }
        guard try ELF.isStatic(busybox) else {
            throw NookError("'\(busybox)' is dynamically linked; a rootfs needs a static busybox",
                            hint: "apt-get install busybox-static")
        }
        if HostPath.exists(dir) && !HostPath.isDirectory(dir) {
            throw NookError("'\(dir)' exists and is not a directory")
        }
        for sub in ["", "/bin", "/sbin", "/usr", "/usr/bin", "/usr/sbin", "/etc", "/proc", "/sys", "/dev", "/tmp",
                    "/root", "/home", "/var", "/var/tmp", "/run", "/mnt"] {
            let path = dir + sub
            if mkdir(path, 0o755) != 0 && errno != EEXIST { throw NookError.sys("mkdir '\(path)'", path: path, errno: errno) }
        }
        chmod(dir + "/tmp", 0o1777)
        chmod(dir + "/var/tmp", 0o1777)
        chmod(dir + "/root", 0o700)
        try copyFile(busybox, to: dir + "/bin/busybox", mode: 0o755)

        let listing = try HelperProcess.runCapturing([busybox, "--list-full"])
        guard listing.status == 0 else { throw NookError("'\(busybox) --list-full' failed: \(listing.errorOutput)") }
        var count = 0
        for line in listing.output.split(separator: "\n") {
            let rel = String(line)
            guard !rel.isEmpty, rel != "bin/busybox", !rel.contains("..") else { continue }
            let link = dir + "/" + rel
            let depth = rel.split(separator: "/").count - 1
            let target = String(repeating: "../", count: depth) + "bin/busybox"
            unlink(link)
            if symlink(target, link) == 0 { count += 1 }
        }
        let files: [(String, String)] = [
            ("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
            ("/etc/group", "root:x:0:\ntty:x:5:\nusers:x:100:\nnogroup:x:65534:\n"),
            ("/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n"),
            ("/etc/os-release", "NAME=\"Nook busybox\"\nID=busybox\n"),
        ]
        for (path, text) in files where !HostPath.exists(dir + path) {
            try HostPath.writeText(dir + path, text, create: true)
        }
        return count
    }

    package static let emptyDirectory = NookError("the directory to create is empty ('')",
                                                 hint: "name a new directory, e.g. nook rootfs busybox ./rootfs")

    static func copyFile(_ from: String, to: String, mode: mode_t) throws {
        let bytes = try HostPath.readBytes(from, as: .executable)
        unlink(to)
        let fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw NookError.sys("create '\(to)'", path: to, errno: errno) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw NookError.sys("write '\(to)'", path: to, errno: errno) }
            offset += n
        }
        fchmod(fd, mode)
    }
}

/// Just enough ELF to tell a static executable from a dynamic one.
package enum ELF {
    /// True when the file has no PT_INTERP program header (no dynamic loader).
    package static func isStatic(_ path: String) throws -> Bool {
        let bytes = try HostPath.readBytes(path, as: .executable)
        let invalid = NookError("'\(path)' is not a valid 64-bit ELF executable")
        guard bytes.count > 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46, bytes[4] == 2 else {
            throw invalid
        }
        func u16(_ o: Int) -> UInt64 { UInt64(bytes[o]) | UInt64(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt64 { u16(o) | u16(o + 2) << 16 }
        func u64(_ o: Int) -> UInt64 { u32(o) | u32(o + 4) << 32 }
        let phoff = u64(0x20), phentsize = u16(0x36), phnum = u16(0x38)
        let size = UInt64(bytes.count)
        // Checked arithmetic: a crafted header must not crash us.
        guard phentsize >= 56, phoff < size, phnum * phentsize <= size - phoff else { throw invalid }
        for i in 0..<phnum {
            let o = Int(phoff + i * phentsize)
            if u32(o) == 3 { return false } // PT_INTERP
        }
        return true
    }
}
