import XCTest
import NookCore
@testable import NookImages
import NookSpec

/// podman's rules for what `nook run IMAGE` takes from the image's config.
final class ImageRunSettingsTests: XCTestCase {
    func config(entrypoint: [String]? = ["/bin/app"], cmd: [String]? = ["--serve"], env: [String]? = nil) -> ImageConfiguration.RunDefaults {
        var c = ImageConfiguration.RunDefaults()
        c.entrypoint = entrypoint
        c.cmd = cmd
        c.env = env
        return c
    }

    func settings(_ c: ImageConfiguration.RunDefaults?, _ o: ImageRunSettings.Overrides = .init()) throws -> ImageRunSettings {
        try ImageRunSettings(config: c, overrides: o, imageName: "img")
    }

    func testArgsAreEntrypointThenCmd() throws {
        XCTAssertEqual(try settings(config()).args, ["/bin/app", "--serve"])
        XCTAssertEqual(try settings(config(entrypoint: nil)).args, ["--serve"])
        XCTAssertEqual(try settings(config(cmd: nil)).args, ["/bin/app"])
    }

    func testACommandReplacesCmdOnly() throws {
        XCTAssertEqual(try settings(config(), .init(command: ["--check", "x"])).args, ["/bin/app", "--check", "x"])
        XCTAssertEqual(try settings(config(entrypoint: nil), .init(command: ["sh"])).args, ["sh"])
    }

    func testEntrypointFlagReplacesEntrypointAndClearsCmd() throws {
        XCTAssertEqual(try settings(config(), .init(entrypoint: "/bin/sh")).args, ["/bin/sh"])
        XCTAssertEqual(try settings(config(), .init(command: ["-c", "true"], entrypoint: "/bin/sh")).args, ["/bin/sh", "-c", "true"])
        XCTAssertEqual(try settings(config(), .init(command: ["x"], entrypoint: #"["/bin/sh","-c"]"#)).args, ["/bin/sh", "-c", "x"])
        XCTAssertEqual(try settings(config(), .init(command: ["ls"], entrypoint: "")).args, ["ls"], "'' means none")
        XCTAssertThrowsError(try settings(config(), .init(entrypoint: "[not json"))) {
            XCTAssertTrue("\($0)".contains("not a JSON array"), "\($0)")
        }
    }

    func testNothingToRunIsRefused() {
        XCTAssertThrowsError(try settings(nil)) { XCTAssertTrue("\($0)".contains("has no Entrypoint or Cmd"), "\($0)") }
        XCTAssertThrowsError(try settings(config(), .init(entrypoint: "")))
    }

    func testEnvKeepsTheImagesAndAddsPATHOnlyWhenMissing() throws {
        XCTAssertEqual(try settings(config(env: ["A=1"])).env, ["PATH=\(ImageRunSettings.defaultPath)", "A=1"])
        XCTAssertEqual(try settings(config(env: ["PATH=/opt/bin", "A=1"])).env, ["PATH=/opt/bin", "A=1"])
    }

    func testWorkdirAndUserFlagsWin() throws {
        var c = config()
        c.workingDir = "/srv"
        c.user = "app"
        XCTAssertEqual(try settings(c).workdir, "/srv")
        XCTAssertEqual(try settings(c).user, "app")
        let flagged = try settings(c, .init(workdir: "/tmp", user: "0:0"))
        XCTAssertEqual(flagged.workdir, "/tmp")
        XCTAssertEqual(flagged.user, "0:0")
        c.workingDir = ""
        c.user = ""
        XCTAssertNil(try settings(c).workdir, "empty: the default")
        XCTAssertNil(try settings(c).user)
        c.workingDir = "relative"
        XCTAssertThrowsError(try settings(c))
    }

    func testPortsArePublishedOnlyWithPublishAll() throws {
        var c = config()
        c.exposedPorts = ["8080/tcp": EmptyObject(), "53/udp": EmptyObject()]
        XCTAssertEqual(try settings(c).publishedPorts, [])
        XCTAssertEqual(try settings(c, .init(publishAll: true)).publishedPorts, ["53/udp", "8080/tcp"])
    }

    func testLabelsAndStopSignalBecomeAnnotations() throws {
        var c = config()
        c.labels = ["org.example.a": "b"]
        c.stopSignal = "SIGQUIT"
        XCTAssertEqual(try settings(c).annotations, ["org.example.a": "b", StopSignalAnnotation.key: "SIGQUIT"])
        XCTAssertEqual(try settings(config()).annotations, [:])
    }
}
