import Glibc
import NookCore
import NookImages
import NookKernel
import NookRuntime

/// How an image's container gets its root: `overlay` (the kernel's overlayfs:
/// the layers shared, a writable layer of its own on top), else
/// `fuseOverlayfs` (the same in FUSE, where the kernel refuses overlayfs in a
/// user namespace), else `copy` (the layers copied into a directory of its
/// own). NOOK_STORAGE_DRIVER=overlay|fuse-overlayfs|copy decides; unset, a
/// probe does, run once per kernel release and remembered in the store
/// (`overlay-probe`); fuse-overlayfs's program and /dev/fuse are looked at each time.
package enum StorageDriver: Equatable {
    case overlay
    /// `reason`: why not the kernel's overlay.
    case fuseOverlayfs(program: String, reason: String)
    case copy(reason: String)

    static let variable = "NOOK_STORAGE_DRIVER"

    /// `nook`: the binary that runs the probe (the CLI's own, or a library caller's monitors' nook).
    package static func choose(store: ImageStore, environment: [String: String],
                              nook: MonitorExecutable = .currentProcess) throws -> StorageDriver {
        switch environment[variable] {
        case "overlay"?: return .overlay
        case "fuse-overlayfs"?:
            let program = try FuseOverlayfsProgram.find(environment: environment).mapError {
                NookError("\(variable)=fuse-overlayfs, but \($0.message)", hint: $0.hint)
            }.get()
            return .fuseOverlayfs(program: program, reason: "\(variable)=fuse-overlayfs")
        case "copy"?: return .copy(reason: "\(variable)=copy")
        case nil, ""?: break
        case let other?:
            throw NookError("\(variable)='\(PrintableText.escaped(other))' is not a storage driver",
                            hint: "use overlay, fuse-overlayfs or copy, or unset it (Nook then checks what the kernel can do)")
        }
        guard let refused = try overlayRefusal(store: store, environment: environment, nook: nook) else { return .overlay }
        switch FuseOverlayfsProgram.find(environment: environment) {
        case .success(let program): return .fuseOverlayfs(program: program, reason: refused)
        case .failure(let why): return .copy(reason: refused + "; fuse-overlayfs unusable: " + why.message)
        }
    }

    /// Why the kernel's overlayfs cannot be used (nil: it can): the probe's
    /// verdict for this kernel, remembered in the store.
    static func overlayRefusal(store: ImageStore, environment: [String: String], nook: MonitorExecutable) throws -> String? {
        let release = kernelRelease()
        let cache = store.root + "/overlay-probe"
        // The probe's verdict for this kernel: "RELEASE\tok" or "RELEASE\tREASON".
        if let text = try? HostPath.readText(cache, as: .own), let line = text.split(separator: "\n").first,
           let tab = line.firstIndex(of: "\t"), line[..<tab] == release {
            let verdict = String(line[line.index(after: tab)...])
            return verdict == "ok" ? nil : verdict
        }
        let outcome = try probe(store: store, nook: nook.resolve(environment: environment))
        switch outcome {
        case .mounts, .refused:
            let verdict = outcome.reason ?? "ok"
            try? HostPath.writeText(cache, release + "\t" + verdict + "\n", create: true, mode: 0o600)  // no cache: probe again next time
        case .failed(let why):
            // Not the kernel's answer (no space, no file descriptors, a spawn
            // that failed): this run does without, the next one probes again.
            Tracer.standardError("nook: warning: overlayfs could not be checked (\(why)): not used this time; the next run probes again")
        }
        return outcome.reason
    }

    /// What the probe found. Only mount(2)'s own answer says what the
    /// kernel can do, and only that is remembered.
    enum ProbeOutcome: Equatable {
        case mounts
        case refused(String)
        case failed(String)

        var reason: String? {
            switch self {
            case .mounts: return nil
            case .refused(let why), .failed(let why): return why
            }
        }
    }

    /// Mounts a tiny overlay in the containers' user namespace (`nook
    /// __probe-overlay`, which writes mount(2)'s error to DIR/reason).
    static func probe(store: ImageStore, nook: String) throws -> ProbeOutcome {
        try store.prepare()
        var template = Array((store.tmpDirectory + "/overlay-probe-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw NookError.sys("mkdtemp in '\(store.tmpDirectory)'", errno: errno) }
        let dir = String(cString: template)
        defer { OwnedLayer.remove(dir) }
        let status = try UserNamespaceCommand.containerMapping().run(program: nook, arguments: ["nook", "__probe-overlay", dir])
        if status == 0 { return .mounts }
        // no reason file: the probe failed before mount(2) said anything (handled below)
        if let reason = (try? HostPath.readText(dir + "/reason", as: .own))?.split(separator: "\n").first.map(String.init) {
            return .refused(reason)
        }
        return .failed("the probe failed (exit \(status)), not mount(2)")
    }

    static func kernelRelease() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
}
