import BindingRuntime
import Foundation
import XCTest

@testable import RuntimeHost

/// Which library a table may call: the one whose version has the table's major.minor.
final class ABICheckTests: XCTestCase {
    func testTheVersionSaidWinsOverTheOneFoundAndOnlyMajorMinorCount() {
        let decide = { (found: String?, said: String?) in
            ABICheck.decide(table: "1.2.3", library: "lib.so", found: found, said: said, setting: "--abi")
        }
        XCTAssertEqual(decide("1.2.0", nil), .matches(version: "1.2.0"))
        XCTAssertEqual(decide("1.3.0", "1.2.3"), .matches(version: "1.2.3"))
        guard case .differs(let reason) = decide("1.3.0", nil) else { return XCTFail() }
        XCTAssertTrue(reason.contains("1.3.0") && reason.contains("1.2.3") && reason.contains("its file"), reason)
        guard case .differs(let said) = decide("1.2.3", "1.3") else { return XCTFail() }
        XCTAssertTrue(said.contains("--abi"), said)
        guard case .assumed(let note) = decide(nil, nil) else { return XCTFail() }
        XCTAssertTrue(note.contains("taken for 1.2.3"), note)
    }

    func testTheVersionIsTheDigitsAfterTheMarker() {
        let file = Data("\u{0}junk rkllm-runtime version: %s\u{0}rkllm-runtime version: 1.2.3\u{0}more".utf8)
        XCTAssertEqual(LibraryVersion.find(marker: "rkllm-runtime version: ", in: file), "1.2.3")
        XCTAssertNil(LibraryVersion.find(marker: "rkllm-runtime version: ", in: Data("version: 1.2.3".utf8)))
        XCTAssertNil(LibraryVersion.find(marker: "v: ", in: Data("v: 7.\u{0}".utf8)), "one number is no version")
    }

    func testAVersionSettingTakesOnlyAVersion() {
        let setting = RuntimeSetting(
            name: "abi", environment: "ABI", flag: "--abi", kind: .version, defaultValue: nil, help: "")
        XCTAssertNil(setting.problem(with: "1.2"))
        XCTAssertNil(setting.problem(with: "1.3.0"))
        for wrong in ["1", "1.", "1.x.0", "banana", "1.2.3.4"] { XCTAssertNotNil(setting.problem(with: wrong), wrong) }
    }
}
