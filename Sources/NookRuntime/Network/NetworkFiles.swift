import Glibc
import NookCore
import NookKernel
import NookSpec

/// The container's /etc/hostname, /etc/hosts and /etc/resolv.conf: written in
/// its state directory and bound over the rootfs's own files, so the image's
/// files are not changed and ours go with the container (podman does the same).
/// A file the image lacks is created empty, as the mount point.
///
/// Read-only: they live on the host's disk, and a container that could write
/// them could fill it (podman's are writable). Nothing in the container is
/// expected to edit them; whoever needs to mounts their own (`-v ./hosts:/etc/hosts`),
/// which replaces ours.
package enum NetworkFiles {
    /// Name in /etc -> content, for this mode.
    package static func contents(mode: NetworkMode, hostname: String, host: HostNetwork) -> [(name: String, content: String)] {
        let localhost = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        var files = [(name: "hostname", content: hostname + "\n")]
        switch mode {
        case .none:
            files.append(("hosts", localhost + "127.0.1.1\t\(hostname)\n"))
        case .host:
            files.append(("hosts", host.hosts + (host.hosts.hasSuffix("\n") || host.hosts.isEmpty ? "" : "\n") + "127.0.1.1\t\(hostname)\n"))
            files.append(("resolv.conf", host.resolvConf))
        case .slirp4netns(let allowHostLoopback, _):
            files.append(("hosts", localhost + "\(Slirp4netns.containerAddress)\t\(hostname)\n"
                          + (allowHostLoopback ? "\(Slirp4netns.gateway)\thost.containers.internal\n" : "")))
            files.append(("resolv.conf", "nameserver \(Slirp4netns.dnsAddress)\n" + host.resolverOptions))
        case .pasta(let allowHostLoopback, _):
            // pasta copies the host's address and routes into the container.
            var hosts = localhost + "\(host.address ?? "127.0.1.1")\t\(hostname)\n"
            if allowHostLoopback, let gateway = host.gateway { hosts += "\(gateway)\thost.containers.internal\n" }
            files.append(("hosts", hosts))
            let servers = Pasta.nameservers(host: host)
            files.append(("resolv.conf", servers.map { "nameserver \($0)\n" }.joined() + host.resolverOptions))
        }
        return files
    }

    /// Writes the files into `directory` and returns the bind mounts, skipping
    /// any file the user mounts something over (their own /etc/hosts, or /etc).
    package static func prepare(mode: NetworkMode, spec: Spec, containerID: String, directory: String,
                               host given: HostNetwork? = nil) throws -> [MountOp] {
        // Without a network the host's is not looked at (getifaddrs alone is two netlink dumps).
        var host = given ?? HostNetwork()
        if given == nil, mode != .none { host = .current() }
        let userTargets = (spec.mounts ?? []).map { normalized($0.destination) }
        var ops: [MountOp] = []
        for file in contents(mode: mode, hostname: spec.hostname ?? containerID, host: host) {
            let target = "/etc/" + file.name
            if userTargets.contains(where: { target == $0 || target.hasPrefix($0 == "/" ? "/" : $0 + "/") }) { continue }
            let source = directory + "/" + file.name
            try HostPath.writeText(source, file.content, create: true, mode: 0o644)
            let attrs = UInt64(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
            // Optional: a rootfs where /etc/hosts cannot be created (not ours to
            // write) still runs; --trace says the file was skipped.
            ops.append(MountOp(kind: .bind, source: source, target: target, attrs: attrs, targetIsFile: true, optional: true,
                               why: "this container's \(target)\(file.name == "hostname" ? "" : " (--network \(mode.name))"), kept read-only in its state directory"))
        }
        return ops
    }

    static func normalized(_ path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}

/// What the host's network looks like to the container's helper: the default
/// route's interface address and gateway, and the resolver configuration.
package struct HostNetwork: Sendable {
    package var address: String?
    package var gateway: String?
    package var resolvConf: String
    package var hosts: String

    package init(address: String? = nil, gateway: String? = nil, resolvConf: String = "", hosts: String = "") {
        self.address = address
        self.gateway = gateway
        self.resolvConf = resolvConf
        self.hosts = hosts
    }

    package static func current() -> HostNetwork {
        // the host has none: the container gets Nook's defaults
        var net = HostNetwork(resolvConf: (try? HostPath.readText("/etc/resolv.conf")) ?? "",
                              hosts: (try? HostPath.readText("/etc/hosts")) ?? "")  // as above
        // no route table: no host gateway entry in /etc/hosts
        if let route = try? HostPath.readText("/proc/net/route"), let (iface, gateway) = defaultRoute(route) {
            net.gateway = gateway
            net.address = ipv4Address(of: iface)
        }
        return net
    }

    /// `nameserver` lines of the host's resolv.conf.
    package var nameservers: [String] {
        resolvConf.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count >= 2 && fields[0] == "nameserver" ? String(fields[1]) : nil
        }
    }

    /// The host's `search` and `options` lines, kept for the container.
    package var resolverOptions: String {
        resolvConf.split(separator: "\n").filter { $0.hasPrefix("search ") || $0.hasPrefix("options ") }
            .map { $0 + "\n" }.joined()
    }

    /// The interface and gateway of the first default route in /proc/net/route
    /// (addresses are hex, in host byte order).
    static func defaultRoute(_ table: String) -> (String, String)? {
        for line in table.split(separator: "\n").dropFirst() {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 3, f[1] == "00000000", let gw = UInt32(f[2], radix: 16) else { continue }
            let b = withUnsafeBytes(of: gw.littleEndian) { Array($0) }
            return (String(f[0]), b.map(String.init).joined(separator: "."))
        }
        return nil
    }

    static func ipv4Address(of interface: String) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var p = list
        while let entry = p {
            defer { p = entry.pointee.ifa_next }
            guard let addr = entry.pointee.ifa_addr, addr.pointee.sa_family == sa_family_t(AF_INET),
                  String(cString: entry.pointee.ifa_name) == interface else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var a = sin.pointee.sin_addr
                _ = inet_ntop(AF_INET, &a, &text, socklen_t(text.count))
            }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }
}
