import BindingRuntime
import Foundation
import XCTest

@testable import RuntimeHost

/// Which table may call a library: the one whose version has the library's major.minor.
final class ABICheckTests: XCTestCase {
    private func decide(_ found: String?, _ said: String?) -> ABICheck.Outcome {
        ABICheck.decide(tables: ["1.3.0", "1.2.3"], library: "lib.so", found: found, said: said, setting: "--abi")
    }

    func testTheTableOfTheLibrarysMajorMinorIsChosen() {
        XCTAssertEqual(decide("1.2.0", nil), .matches(table: "1.2.3", version: "1.2.0"))
        XCTAssertEqual(decide("1.3.1", nil), .matches(table: "1.3.0", version: "1.3.1"))
        XCTAssertEqual(
            decide(nil, "1.2"), .matches(table: "1.2.3", version: "1.2"), "the setting says for a silent file")
        XCTAssertEqual(decide("1.2.3", "1.2"), .matches(table: "1.2.3", version: "1.2.3"))
        guard case .differs(let reason) = decide("1.4.0", nil) else { return XCTFail() }
        XCTAssertTrue(
            reason.contains("1.4.0") && reason.contains("1.3.0, 1.2.3") && reason.contains("its file"), reason)
    }

    func testASettingThatContradictsTheFileIsRefusedWithBothNamed() {
        // Forcing the 1.3 table onto a 1.2 library would hand it structs it misreads.
        guard case .differs(let reason) = decide("1.2.3", "1.3") else { return XCTFail() }
        XCTAssertTrue(reason.contains("1.2.3") && reason.contains("1.3") && reason.contains("--abi"), reason)
    }

    func testAVersionNobodySaysIsTakenForTheFirstTablesAndSaidSo() {
        guard case .assumed(let table, let note) = decide(nil, nil) else { return XCTFail() }
        XCTAssertEqual(table, "1.3.0")
        XCTAssertTrue(note.contains("taken for 1.3.0") && note.contains("--abi"), note)
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
