import Glibc
import NookCore
import NookKernel

/// Whether fuse-overlayfs can be the storage driver here: the program
/// (`NOOK_FUSE_OVERLAYFS`, else `fuse-overlayfs` in PATH) and /dev/fuse,
/// which the server opens for reading and writing.
enum FuseOverlayfsProgram {
    static let variable = "NOOK_FUSE_OVERLAYFS"

    /// The program's absolute path, or why it cannot be used.
    static func find(environment: [String: String]) -> Result<String, NookError> {
        let named = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        if let named, !named.hasPrefix("/") {
            return .failure(NookError("\(variable)='\(PrintableText.escaped(named))' is not an absolute path",
                                      hint: "name the fuse-overlayfs program by its absolute path, or unset it"))
        }
        guard let program = HostPath.findExecutable(named ?? "fuse-overlayfs", searchPath: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"),
              program.hasPrefix("/") else {
            return .failure(NookError(named.map { "\(variable)='\(PrintableText.escaped($0))' is not an executable" } ?? "fuse-overlayfs is not in PATH",
                                      hint: "install it (Debian: apt install fuse-overlayfs) or name it with \(variable)"))
        }
        var st = stat()
        guard stat("/dev/fuse", &st) == 0, st.st_mode & S_IFMT == S_IFCHR, access("/dev/fuse", R_OK | W_OK) == 0 else {
            return .failure(NookError("/dev/fuse is not a device you can read and write",
                                      hint: "load the fuse module (modprobe fuse) and make /dev/fuse mode 0666, as Debian's fuse3 does"))
        }
        return .success(program)
    }
}
