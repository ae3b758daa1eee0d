// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Nook",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "nook", targets: ["nook"]),
        .library(name: "NookKit", targets: ["NookKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // Only what must run between clone() and execve(), and calls Swift cannot make.
        .target(
            name: "CShims",
            path: "CShims",
            // The start waiter is a program of its own, built apart (Scripts/build-waiter.sh).
            exclude: ["waiter"],
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]
        ),
        .target(
            name: "NookKit",
            dependencies: [
                "CShims",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "nook",
            dependencies: [
                "NookKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "NookKitTests", dependencies: ["NookKit"]),
        .testTarget(name: "IntegrationTests", dependencies: ["NookKit", "CShims"]),
    ],
    swiftLanguageModes: [.v6]
)
