import Glibc
import NookCore
import NookKernel
import NookSpec

/// The caller's login name, for `/etc/subuid` entries written by name.
///
/// Read from `/etc/passwd` directly rather than with getpwuid(3): Nook is built
/// as a static executable, and static glibc loads NSS modules
/// (libnss_systemd, sssd, LDAP) with dlopen for users not in /etc/passwd,
/// which crashes. For such users the system's own `getent` (dynamic, with
/// NSS) is asked instead: the rare case pays for a process, the common one
/// reads a file.
package enum HostUserName {
    package static func of(uid: uid_t, passwd: String = "/etc/passwd") -> String? {
        // no readable /etc/passwd: ask getent below
        if let text = try? HostPath.readText(passwd), let name = lookup(uid: uid, inPasswd: text) { return name }
        guard HostPath.findExecutable("getent") != nil,
              // no getent or no entry: the uid has no name (callers print the number)
              let result = try? HelperProcess.runCapturing(["getent", "passwd", "\(uid)"]), result.status == 0 else { return nil }
        return lookup(uid: uid, inPasswd: result.output)
    }

    /// `name:x:uid:gid:...` lines; the first with this uid.
    static func lookup(uid: uid_t, inPasswd text: String) -> String? {
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count > 2, UInt32(f[2]) == uid, !f[0].isEmpty { return String(f[0]) }
        }
        return nil
    }
}
