// swift-tools-version:6.0
import PackageDescription

/// Every Swift target of ours: an import of one of our modules that the
/// target does not declare below fails its build (Plugins/DirectImportsOnly).
let directImportsOnly: [Target.PluginUsage] = [.plugin(name: "DirectImportsOnly")]

let package = Package(
    name: "Nook",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "nook", targets: ["nook"]),
        .executable(name: "nook-registry", targets: ["nook-registry"]),
        .library(name: "NookKit", targets: ["NookKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // AsyncHTTPClient's own dependencies, named because the registry client uses their types.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // A target that imports one of our modules it does not declare fails to build.
        .plugin(name: "DirectImportsOnly", capability: .buildTool()),
        // Only what must run between clone() and execve(), and calls Swift cannot make.
        .target(
            name: "CShims",
            path: "CShims",
            // The start waiter is a program of its own, built apart (Scripts/build-waiter.sh).
            exclude: ["waiter"],
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("seccomp")]
        ),
        // libarchive's headers, for reading layer tarballs (tar; gzip, zstd) and apt's lz4 lists: only NookImages uses it.
        .systemLibrary(name: "CArchive", path: "CArchive"),
        // Errors and text: what every module says to users. Imports nothing of ours.
        .target(name: "NookCore", dependencies: [.product(name: "SystemPackage", package: "swift-system")], plugins: directImportsOnly),
        // The OCI model, its parsing, validation and defaults. No I/O, no kernel.
        .target(name: "NookSpec", dependencies: ["NookCore"], plugins: directImportsOnly),
        // The one seam over the kernel and the C shim (KernelInterface, LiveKernel).
        .target(
            name: "NookKernel",
            dependencies: [
                "NookCore",
                "CShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            plugins: directImportsOnly
        ),
        // A recording fake of the kernel seam, for unit tests and test harnesses:
        // a target of its own, so the `nook` binary never links it.
        .target(
            name: "NookKernelTesting",
            dependencies: ["NookCore", "NookKernel", .product(name: "SystemPackage", package: "swift-system")],
            plugins: directImportsOnly
        ),
        // Identity, mounts, security, cgroups, network, lifecycle, state, trace.
        .target(
            name: "NookRuntime",
            dependencies: ["NookCore", "NookSpec", "NookKernel", .product(name: "SystemPackage", package: "swift-system")],
            plugins: directImportsOnly
        ),
        // Images: references, the content-addressed store, verification, layers,
        // import/export and what `nook run IMAGE` starts from. Never NookRuntime:
        // an image ends as a rootfs and a Spec. Not on `nook run --rootfs`'s path.
        .target(
            name: "NookImages",
            dependencies: [
                "NookCore",
                "NookSpec",
                "NookKernel",
                "CArchive",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            plugins: directImportsOnly
        ),
        // The registry client: the OCI distribution protocol, its auth, and
        // `nook pull`'s blob fetches into the store. Not on `nook run --rootfs`'s path.
        .target(
            name: "NookRegistry",
            dependencies: [
                "NookCore",
                "NookSpec",
                "NookKernel",
                "NookImages",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            plugins: directImportsOnly
        ),
        // An image as a run's source: its config and a container layer become
        // RunOptions. Shared by `nook run IMAGE` and NookKit; never the registry client.
        .target(name: "NookImageRun", dependencies: ["NookCore", "NookSpec", "NookKernel", "NookRuntime", "NookImages"], plugins: directImportsOnly),
        // What a Swift program imports: the runtime, images from the store and the OCI model.
        .target(name: "NookKit", dependencies: ["NookCore", "NookSpec", "NookRuntime", "NookImageRun"], plugins: directImportsOnly),
        // The CLI: parses flags and calls the runtime; its own file reads go
        // through the kernel seam too. Never the C shim.
        .executableTarget(
            name: "nook",
            dependencies: [
                "NookCore",
                "NookSpec",
                "NookKernel",
                "NookRuntime",
                "NookImages",
                "NookImageRun",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            plugins: directImportsOnly
        ),
        // What `nook pull` runs to talk to registries: the HTTP client stays out
        // of `nook` (NookImages' PullRequest says why).
        .executableTarget(name: "nook-registry", dependencies: ["NookCore", "NookSpec", "NookImages", "NookRegistry"],
                          plugins: directImportsOnly),
        // A program using NookKit as a test harness would; the integration
        // tests run it as an unprivileged user (NookKitHarnessTests).
        .executableTarget(name: "nook-harness-probe", dependencies: ["NookKit"], plugins: directImportsOnly),
        .testTarget(name: "NookKitTests",
                    dependencies: ["NookCore", "NookSpec", "NookKernel", "NookKernelTesting", "NookRuntime", "NookImages", "NookImageRun", "NookRegistry", "CShims",
                                   .product(name: "SystemPackage", package: "swift-system")],
                    plugins: directImportsOnly),
        .testTarget(name: "IntegrationTests", dependencies: ["NookCore", "NookSpec", "NookKernel", "NookRuntime", "NookImages", "CShims"],
                    plugins: directImportsOnly),
    ],
    swiftLanguageModes: [.v6]
)
