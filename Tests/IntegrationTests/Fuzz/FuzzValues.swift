import Foundation

/// Files a fuzz case points nook at where it expects a regular file or a
/// directory: a FIFO nobody writes, a symlink to /dev/zero, a directory, a
/// path whose `.nook-tmp` sibling is a trap, a file that must never change.
/// Remade before every case, so a case that replaced one cannot affect the next.
struct FuzzFixtures {
    let dir: String
    var fifo: String { dir + "/fifo" }
    var zeroLink: String { dir + "/zero-link" }
    var directory: String { dir + "/a-directory" }
    var missing: String { dir + "/missing/deeper" }
    var regular: String { dir + "/regular" }
    /// Writes to this file go through a symlink at `<trapped>.nook-tmp`: its content must never change.
    var victim: String { dir + "/victim" }
    static let victimText = "not yours\n"
    /// A symlink to `victim`, where nook writes a file a user names.
    var victimLink: String { dir + "/victim-link" }
    /// A path whose `.nook-tmp` sibling is a symlink to `victim`.
    var trappedByLink: String { dir + "/trap-link" }
    /// A path whose `.nook-tmp` sibling is a FIFO.
    var trappedByFIFO: String { dir + "/trap-fifo" }

    /// Everything `remake` creates, for the "nothing left behind" check.
    var names: Set<String> { ["fifo", "zero-link", "a-directory", "regular", "victim", "trap-link.nook-tmp", "trap-fifo.nook-tmp", "victim-link"] }

    /// Paths for fields and flags that name a file or directory.
    var paths: [String] {
        [fifo, zeroLink, directory, missing, regular, victimLink, trappedByLink, trappedByFIFO, "/dev/zero", "/dev/null",
         "/proc/self/mem", "/", "..", "../../../../etc/shadow", "", "relative/path", "/etc/passwd"]
    }

    func remake(owner: Harness.User, isRoot: Bool) {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] { try? fm.removeItem(atPath: dir + "/" + entry) }
        mkfifo(fifo, 0o644)
        symlink("/dev/zero", zeroLink)
        mkdir(directory, 0o755)
        fm.createFile(atPath: regular, contents: Data("A=1\n".utf8))
        fm.createFile(atPath: victim, contents: Data(Self.victimText.utf8))
        symlink(victim, victimLink)
        symlink(victim, trappedByLink + ".nook-tmp")
        mkfifo(trappedByFIFO + ".nook-tmp", 0o644)
        guard isRoot else { return }
        for name in names { lchown(dir + "/" + name, owner.uid, owner.gid) }
    }
}

/// Hostile values shared by the config.json and the flag fuzzers.
enum FuzzValues {
    /// Number literals as JSON text: limits of every integer type, one past
    /// them, negative zero, fractions, exponent forms, out of Double's range.
    static let numbers = ["-1", "0", "1", "-0", "1.5", "0.0", "1e3", "1E3", "2147483647", "2147483648", "4294967295",
                          "4294967296", "65536", "9223372036854775807", "9223372036854775808", "18446744073709551615",
                          "18446744073709551616", "-9223372036854775808", "-9223372036854775809", "1e400", "-1e400",
                          "1e-400", "123456789012345678901234567890", "3.4e38", "0.1e1", "-2147483649"]
    /// Not JSON at all, where a number goes.
    static let badNumbers = ["01", "+1", "NaN", "Infinity", "0x10", ".5", "1.", "--1", "1e"]

    static func strings(_ fixtures: FuzzFixtures) -> [String] {
        fixtures.paths + ["a\u{0}b", "/bin/true\u{0}x", "\u{1b}[31mred\u{1b}[0m\n", "\n", "rootfs/../../..", ".",
                          "/" + String(repeating: "a/", count: 2500), String(repeating: "x", count: 70_000),
                          "\u{202e}evil", "%s%n", "-1", "true", "CAP_SYS_ADMIN", "ALL", "host", "/proc", "/sys"]
    }

    /// Sizes as the resource flags take them.
    static let sizes = ["64M", "1g", "0", "-1", "99999999999999999999G", "9223372036854775807", "9223372036854775807G", "1.5g",
                        "1e3", "0x10", "inf", "nan", "-5M", "", "6M", "5M", "1b", "8796093022208k", ".", "1..5m"]
    /// Integers as flags take them.
    static let integers = ["0", "-1", "1", "10", "1000", "65535", "65536", "4294967296", "9223372036854775807",
                           "9223372036854775808", "-9223372036854775809", "1.5", "abc", "", "1e3"]
}
