import XCTest
import Glibc
import NookCore
@testable import NookRuntime

/// Signal names as `nook kill` and an image's StopSignal give them, and the
/// system name the audits take from os-release.
final class SignalNamesTests: XCTestCase {
    func testNamesNumbersAndRealtimeSignals() throws {
        XCTAssertEqual(try Signals.parse("TERM"), SIGTERM)
        XCTAssertEqual(try Signals.parse("sigusr1"), SIGUSR1)
        XCTAssertEqual(try Signals.parse("15"), 15)
        // systemd images stop on SIGRTMIN+3; glibc's SIGRTMIN is 34, as podman counts.
        XCTAssertEqual(try Signals.parse("SIGRTMIN+3"), 37)
        XCTAssertEqual(try Signals.parse("RTMIN"), 34)
        XCTAssertEqual(try Signals.parse("SIGRTMAX-2"), 62)
        XCTAssertEqual(try Signals.parse("RTMAX"), 64)
        XCTAssertEqual(try Signals.parse("RTMIN+03"), 37)
        for bad in ["SIGFOO", "RTMIN+31", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN+99999999999", "RTMINX", "0", "65", "",
                    "RTMIN++3", "RTMAX-+3", "RTMAX--0", "RTMIN+-0", "+3", "RTMIN+ 3", "RTMIN+030", "ſigterm", " 9"] {
            XCTAssertThrowsError(try Signals.parse(bad), bad)
        }
    }

    func testSystemNameFallsBackFromPrettyNameToNameToID() {
        XCTAssertEqual(InstalledPackages.systemName(["PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian"]), "Debian GNU/Linux 12 (bookworm)")
        XCTAssertEqual(InstalledPackages.systemName(["NAME": "Nook busybox", "ID": "busybox"]), "Nook busybox")
        XCTAssertEqual(InstalledPackages.systemName(["NAME": "Alpine", "VERSION": "3.20"]), "Alpine 3.20")
        XCTAssertEqual(InstalledPackages.systemName(["PRETTY_NAME": "", "VERSION": "1.0", "ID": "tiny"]), "tiny", "an empty PRETTY_NAME and a VERSION without NAME name nothing")
        XCTAssertNil(InstalledPackages.systemName([:]))
    }
}
