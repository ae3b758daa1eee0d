import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

final class NetworkSettingsTests: XCTestCase {
    func testModesParseAndRoundTripThroughAnnotations() throws {
        XCTAssertEqual(try NetworkMode.parse("none"), NetworkMode.none)
        XCTAssertEqual(try NetworkMode.parse("host"), .host)
        XCTAssertEqual(try NetworkMode.parse("pasta"), .pasta(allowHostLoopback: false, options: []))
        XCTAssertEqual(try NetworkMode.parse("pasta:--map-gw,-4"), .pasta(allowHostLoopback: true, options: ["-4"]))
        XCTAssertEqual(try NetworkMode.parse("slirp4netns:allow_host_loopback=true,mtu=1500"),
                       .slirp4netns(allowHostLoopback: true, mtu: 1500))
        for text in ["none", "host", "pasta", "pasta:--map-gw,-4", "slirp4netns:allow_host_loopback=false,mtu=65520"] {
            let settings = NetworkSettings(mode: try NetworkMode.parse(text), ports: [try PortMapping.parse("127.0.0.1:8080:80")])
            if settings.mode.usesHelper {
                var spec = SpecDefaults.spec(rootfs: "/r", args: ["true"], hostname: "h")
                try settings.apply(to: &spec)
                XCTAssertEqual(try NetworkSettings.recorded(in: spec), settings, text)
            }
        }
        XCTAssertThrowsError(try NetworkMode.parse("bridge"))
        XCTAssertThrowsError(try NetworkMode.parse("host:x"))
        // Modes that take no options refuse them, none and private included.
        for text in ["none:junk", "private:junk", "host:x"] {
            assertNookError(try NetworkMode.parse(text)) { e in
                assertContains(e.message, "invalid --network '\(text)': ")
                assertContains(e.message, "takes no options")
            }
        }
        XCTAssertThrowsError(try NetworkMode.parse("slirp4netns:mtu=99"))
        XCTAssertThrowsError(try NetworkMode.parse("slirp4netns:port_handler=rootlesskit"))
    }

    /// --network travels typed to the runtime; the annotations are its on-disk
    /// form, read back in one place, and a spec without them records no network.
    func testTheAnnotationsAreReadBackInOnePlaceAndAbsentMeansNoSettings() throws {
        var spec = SpecDefaults.spec(rootfs: "/r", args: ["true"], hostname: "h")
        XCTAssertNil(try NetworkSettings.recorded(in: spec), "a bundle without the annotation decides its network alone")
        let pasta = NetworkSettings(mode: .pasta(allowHostLoopback: false, options: []), ports: [PortMapping(hostPort: 8080, containerPort: 80)])
        try pasta.apply(to: &spec)
        XCTAssertEqual(try NetworkSettings.recorded(in: spec), pasta)
        spec.annotations?[NetworkSettings.portsAnnotation] = "8080:80"
        spec.annotations?[NetworkSettings.modeAnnotation] = "host"
        assertNookError(try NetworkSettings.recorded(in: spec)) { assertContains($0.message, "-p needs a network namespace") }
        // With none, nook's own forwarder publishes: TCP only, at most ten ports, on the host's loopback.
        spec.annotations?[NetworkSettings.modeAnnotation] = "none"
        assertNookError(try NetworkSettings.recorded(in: spec)) { e in
            assertContains(e.message, "-p 8080:80/tcp: with --network none, nook's port forwarder publishes on the host's loopback only")
            assertContains(e.hint ?? "", "-p 127.0.0.1:8080:80")
        }
        for local in ["127.0.0.1:8080:80", "127.1.2.3:8080:80", "[::1]:8080:80"] {
            spec.annotations?[NetworkSettings.portsAnnotation] = local
            XCTAssertEqual(try NetworkSettings.recorded(in: spec)?.forwardsPorts, true, local)
        }
        for open in ["0.0.0.0:8080:80", "[::]:8080:80", "192.0.2.1:8080:80", "[::ffff:127.0.0.1]:8080:80"] {
            spec.annotations?[NetworkSettings.portsAnnotation] = open
            assertNookError(try NetworkSettings.recorded(in: spec), open) { assertContains($0.message, "on the host's loopback only") }
        }
        spec.annotations?[NetworkSettings.portsAnnotation] = "8080:80 5353:53/udp"
        assertNookError(try NetworkSettings.recorded(in: spec)) { assertContains($0.message, "publishes TCP ports only") }
        spec.annotations?[NetworkSettings.portsAnnotation] = (8000...8010).map { "\($0):\($0)" }.joined(separator: " ")
        assertNookError(try NetworkSettings.recorded(in: spec)) { assertContains($0.message, "at most 10 ports (11 given)") }
    }

    func testPortMappings() throws {
        XCTAssertEqual(try PortMapping.parse("8080:80"), PortMapping(hostPort: 8080, containerPort: 80))
        XCTAssertEqual(try PortMapping.parse("127.0.0.1:8080:80/udp"),
                       PortMapping(hostIP: "127.0.0.1", hostPort: 8080, containerPort: 80, proto: .udp))
        XCTAssertEqual(try PortMapping.parse("[::1]:8080:80"), PortMapping(hostIP: "::1", hostPort: 8080, containerPort: 80))
        XCTAssertEqual(try PortMapping.parse(":8080:80"), PortMapping(hostPort: 8080, containerPort: 80))
        XCTAssertEqual(try PortMapping.parse("[::1]:8080:80").description, "[::1]:8080:80/tcp")
        for bad in ["127.0.0.1:80", "0:80", "8080:70000", "x:1:2", "1:2/sctp", "a:b", "1:2:3:4", "8000-8001:80",
                    "90-80:90-80", "80-:80", "-80:80", "1-2-3:1-2-3", ""] {
            XCTAssertThrowsError(try PortMapping.parseAll(bad), bad) { error in
                XCTAssertTrue((error as? NookError)?.message.hasPrefix("invalid -p '\(bad)'") == true, "\(error)")
            }
        }
        // The spec's annotations always name a host port.
        XCTAssertThrowsError(try PortMapping.parse("80"))
    }

    /// podman's other forms: a container port alone, an address with no host port, ranges.
    func testPortRangesAndPortsTheKernelPicks() throws {
        XCTAssertEqual(try PortMapping.parseAll("80"), [PortMapping(hostPort: 0, containerPort: 80)])
        XCTAssertEqual(try PortMapping.parseAll("53/udp"), [PortMapping(hostPort: 0, containerPort: 53, proto: .udp)])
        XCTAssertEqual(try PortMapping.parseAll("127.0.0.1::80"), [PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: 80)])
        XCTAssertEqual(try PortMapping.parseAll("8000-8002:80-82"), [
            PortMapping(hostPort: 8000, containerPort: 80), PortMapping(hostPort: 8001, containerPort: 81),
            PortMapping(hostPort: 8002, containerPort: 82)])
        XCTAssertEqual(try PortMapping.parseAll("127.0.0.1::80-81").map(\.hostPort), [0, 0])
        let picked = try PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: 80).withHostPortChosen()
        XCTAssertNotEqual(picked.hostPort, 0)
        XCTAssertNoThrow(try picked.checkAvailable(), "the picked port was let go")
        let fixed = PortMapping(hostIP: "127.0.0.1", hostPort: 8080, containerPort: 80)
        XCTAssertEqual(try fixed.withHostPortChosen(), fixed)
    }

    /// A PortMapping built in code (public NookKit API) never went through parse().
    func testCheckAvailableWithABadAddressIsAnErrorNotACrash() {
        for ip in ["not-an-ip", "", "999.1.1.1", "[::1]"] {
            assertNookError(try PortMapping(hostIP: ip, hostPort: 18080, containerPort: 80).checkAvailable(), ip) { e in
                assertContains(e.message, "'\(ip)' is not an IPv4 or IPv6 address")
                XCTAssertEqual(e.exitCode, 125)
            }
        }
    }

    func testPortsNeedANetworkNamespaceAndAreUnique() throws {
        let port = try PortMapping.parse("8080:80")
        // none: nook's own forwarder publishes TCP ports on the host's loopback; host has no namespace to publish into.
        XCTAssertNoThrow(try NetworkSettings(mode: .none, ports: [try PortMapping.parse("127.0.0.1:8080:80")]).validate())
        XCTAssertThrowsError(try NetworkSettings(mode: .none, ports: [port]).validate())
        XCTAssertTrue(NetworkSettings(mode: .none, ports: [port]).startsHelper)
        XCTAssertFalse(NetworkSettings(mode: .none).startsHelper)
        XCTAssertThrowsError(try NetworkSettings(mode: .none, ports: [port, port]).validate())
        XCTAssertThrowsError(try NetworkSettings(mode: .host, ports: [port]).validate())
        XCTAssertThrowsError(try NetworkSettings(mode: .pasta(allowHostLoopback: false, options: []), ports: [port, port]).validate())
        XCTAssertThrowsError(try NetworkSettings(mode: .slirp4netns(allowHostLoopback: false, mtu: 65520),
                                                 ports: [try PortMapping.parse("[::1]:8080:80")]).validate())
        XCTAssertNoThrow(try NetworkSettings(mode: .pasta(allowHostLoopback: false, options: []),
                                             ports: [try PortMapping.parse("[::1]:8080:80")]).validate())
        XCTAssertNoThrow(try NetworkSettings(mode: .pasta(allowHostLoopback: false, options: []),
                                             ports: [port, try PortMapping.parse("8080:80/udp")]).validate())
    }

    /// The forwarder joins the container's user namespace: it must be a new one of its own.
    func testTheForwarderNeedsAUserNamespaceOfTheContainersOwn() throws {
        let forwarded = NetworkSettings(mode: .none, ports: [try PortMapping.parse("127.0.0.1:8080:80")])
        assertNookError(try LiveNetworkSetup().check(forwarded, namespaces: [.mount, .pid, .network])) { e in
            assertContains(e.message, "-p with --network none needs a user namespace of the container's own")
            XCTAssertEqual(e.exitCode, 125)
        }
    }

    func testHostModeDropsTheNetworkNamespace() throws {
        var spec = SpecDefaults.spec(rootfs: "/r", args: ["sh"], hostname: "h")
        try NetworkSettings(mode: .host).apply(to: &spec)
        XCTAssertFalse(spec.linux?.namespaces?.contains { $0.type == "network" } ?? true)
        XCTAssertEqual(spec.annotations?[NetworkSettings.modeAnnotation], "host")
    }

    func testPastaArgumentsPublishOnlyWhatWasAskedAndCloseTheHostLoopback() throws {
        let host = HostNetwork(address: "192.0.2.2", gateway: "192.0.2.1", resolvConf: "nameserver 127.0.0.53\n")
        let args = Pasta.arguments(containerPID: 42, ports: [try PortMapping.parse("127.0.0.1:8080:80"), try PortMapping.parse("5353:53/udp")],
                                   allowHostLoopback: false, extraOptions: [], host: host)
        XCTAssertEqual(args.joined(separator: " "),
                       "--foreground --quiet --config-net -t 127.0.0.1/8080:80 -u 5353:53 -T none -U none --no-map-gw "
                       + "--dns-forward 169.254.1.1 --netns /proc/42/ns/net --userns /proc/42/ns/user")
        let open = Pasta.arguments(containerPID: 42, ports: [], allowHostLoopback: true, extraOptions: ["-4"],
                                   host: HostNetwork(resolvConf: "nameserver 10.0.0.1\n"))
        XCTAssertFalse(open.contains("--no-map-gw"))
        XCTAssertFalse(open.contains("--dns-forward"))
        XCTAssertTrue(open.joined(separator: " ").contains("-t none -u none -T none -U none -4 --netns"))
    }

    func testNetworkFilesPerMode() {
        let host = HostNetwork(address: "192.0.2.2", gateway: "192.0.2.1",
                               resolvConf: "nameserver 127.0.0.53\nsearch example.org\noptions edns0\n", hosts: "127.0.0.1 localhost\n")
        func files(_ mode: NetworkMode) -> [String: String] {
            Dictionary(uniqueKeysWithValues: NetworkFiles.contents(mode: mode, hostname: "web", host: host).map { ($0.name, $0.content) })
        }
        let none = files(.none)
        XCTAssertEqual(none["hostname"], "web\n")
        XCTAssertNil(none["resolv.conf"], "no network, no resolver")
        XCTAssertTrue(none["hosts"]!.contains("127.0.1.1\tweb\n"))
        let slirp = files(.slirp4netns(allowHostLoopback: true, mtu: 65520))
        XCTAssertEqual(slirp["resolv.conf"], "nameserver 10.0.2.3\nsearch example.org\noptions edns0\n")
        XCTAssertTrue(slirp["hosts"]!.contains("10.0.2.100\tweb\n10.0.2.2\thost.containers.internal\n"))
        let pasta = files(.pasta(allowHostLoopback: false, options: []))
        XCTAssertEqual(pasta["resolv.conf"], "nameserver 169.254.1.1\nsearch example.org\noptions edns0\n")
        XCTAssertTrue(pasta["hosts"]!.contains("192.0.2.2\tweb\n"))
        XCTAssertFalse(pasta["hosts"]!.contains("host.containers.internal"))
        XCTAssertEqual(files(.host)["resolv.conf"], host.resolvConf)
    }

    /// They live on the host's disk: a container that could write them could fill it.
    func testNetworkFilesAreBoundReadOnly() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let spec = SpecDefaults.spec(rootfs: tmp.path, args: ["true"], hostname: "web")
        let ops = try NetworkFiles.prepare(mode: .pasta(allowHostLoopback: false, options: []), spec: spec, containerID: "c",
                                           directory: tmp.path, host: HostNetwork(resolvConf: "nameserver 192.0.2.53\n"))
        XCTAssertEqual(ops.map(\.target), ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"])
        for op in ops {
            XCTAssertEqual(op.attrs & ABI.MOUNT_ATTR_RDONLY, ABI.MOUNT_ATTR_RDONLY, op.target)
        }
    }

    func testDefaultRouteFromProcNetRoute() {
        let table = "Iface\tDestination\tGateway \tFlags\n"
            + "eth0\t000200C0\t00000000\t0001\n"
            + "eth0\t00000000\t010200C0\t0003\n"
        XCTAssertEqual(HostNetwork.defaultRoute(table)?.0, "eth0")
        XCTAssertEqual(HostNetwork.defaultRoute(table)?.1, "192.0.2.1")
        XCTAssertNil(HostNetwork.defaultRoute("Iface\tDestination\n"))
    }
}
