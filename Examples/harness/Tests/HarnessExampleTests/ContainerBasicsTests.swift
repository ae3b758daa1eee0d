import NookKit
import Testing

/// The smallest use: a command that prints and exits, its code and output.
@Test func echoes() async throws {
    let request = ContainerRequest(rootfs: try BusyboxRootfs.path, command: ["sh", "-c", "echo hello; exit 7"])
    try await withContainer(request) { container in
        let code = try await container.wait(timeout: .seconds(10))
        #expect(code == 7)
        #expect(container.output() == "hello\n")
    }
}
