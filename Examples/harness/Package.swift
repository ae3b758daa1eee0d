// swift-tools-version:6.0
// A test package that uses NookKit as a harness author would: by path, no
// other dependency. Examples/harness/run.sh builds it and runs its tests as
// an unprivileged user (NookKit is rootless; it refuses nothing as root, but
// the containers it starts are meant to be yours).
import PackageDescription

let package = Package(
    name: "NookHarnessExample",
    platforms: [.macOS(.v13)],
    dependencies: [
        // The Nook repository, two levels up. `name:` fixes the package's
        // name whatever the checkout's directory is called.
        .package(name: "Nook", path: "../.."),
    ],
    targets: [
        .testTarget(
            name: "HarnessExampleTests",
            dependencies: [.product(name: "NookKit", package: "Nook")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
