import XCTest
import NookCore
@testable import NookKernel
@testable import NookRuntime
@testable import NookSpec

/// `--env-file`, read as Docker reads it (docker/cli opts.parseKeyValueFile).
final class EnvFileTests: XCTestCase {
    func parse(_ text: String, caller: [String: String] = [:]) throws -> [String] {
        try EnvironmentList.parseFile(Array(text.utf8), label: "--env-file app.env", caller: caller)
    }

    func testValuesAreKeptAsWrittenAndLeadingWhitespaceIgnored() throws {
        XCTAssertEqual(try parse("A=1\n  B=two words \nC=\"quoted\"\nD=x=y\nE=\n"),
                       ["A=1", "B=two words ", "C=\"quoted\"", "D=x=y", "E="])
    }

    func testCommentsBlankLinesCRLFAndABOM() throws {
        XCTAssertEqual(try parse("\u{FEFF}# settings\r\n\r\n   \n\t# indented comment\nA=1\r\nB=2"), ["A=1", "B=2"])
    }

    func testANameAloneCopiesTheCallerValueOrIsSkipped() throws {
        XCTAssertEqual(try parse("HOME\nUNSET_HERE\n  LANG\n", caller: ["HOME": "/home/ada", "LANG": "C"]),
                       ["HOME=/home/ada", "LANG=C"])
    }

    func testExportAndSpacesAroundEqualsAreErrorsNamingTheLine() {
        assertNookError(try parse("A=1\nexport B=2\n")) { e in
            XCTAssertEqual(e.message, "--env-file app.env line 2: variable name 'export B' contains whitespace")
            assertContains(e.hint ?? "", "'export'")
        }
        assertNookError(try parse("# c\nB = x\n")) { e in
            XCTAssertEqual(e.message, "--env-file app.env line 2: variable name 'B ' contains whitespace")
        }
        assertNookError(try parse("B\t=x\n")) { e in assertContains(e.message, "line 1: variable name 'B\t' contains whitespace") }
    }

    func testGarbageWithoutEqualsIsAnErrorNamingTheLine() {
        for (garbage, line) in [("hello world", 2), ("---", 2), ("}", 2), ("9LIVES", 2)] {
            assertNookError(try parse("A=1\n\(garbage)\n")) { e in
                XCTAssertEqual(e.message, "--env-file app.env line \(line): expected KEY=VALUE or a variable name, found '\(garbage)'")
            }
        }
        assertNookError(try parse("=value\n")) { e in
            XCTAssertEqual(e.message, "--env-file app.env line 1: no variable name before '=' in '=value'")
        }
    }

    func testBytesNoVariableCanHold() {
        assertNookError(try EnvironmentList.parseFile([0x41, 0x3D, 0xFF, 0x0A], label: "--env-file x", caller: [:])) { e in
            XCTAssertEqual(e.message, "--env-file x line 1: not valid UTF-8")
        }
        assertNookError(try EnvironmentList.parseFile(Array("A=1\nB=x\0y\n".utf8), label: "--env-file x", caller: [:])) { e in
            assertContains(e.message, "--env-file x line 2: a NUL byte")
        }
    }

    func testALongLineIsShortenedInTheError() {
        assertNookError(try parse(String(repeating: "x ", count: 100))) { e in
            XCTAssertLessThan(e.message.count, 160, e.message)
            assertContains(e.message, "...'")
        }
    }
}
