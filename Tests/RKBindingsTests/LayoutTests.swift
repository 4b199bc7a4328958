import RKLLMBindings_1_2_3
import RKNNBindings
import XCTest

/// The size and every field offset libclang read from Headers/, against what Swift imported.
final class LayoutTests: XCTestCase {
    func testEveryGeneratedLayoutMatchesSwift() {
        XCTAssertGreaterThanOrEqual(layoutChecks.count, 38)
        XCTAssertEqual(layoutChecks.flatMap(\.mismatches), [])
    }

    func testAnonymousUnionMembersAreChecked() throws {
        let input = try XCTUnwrap(layoutChecks.first { $0.type == "RKLLMInput" })
        XCTAssertEqual(input.fields.first { $0.name == "multimodal_input" }?.expected, 16)
        XCTAssertEqual(input.fields.first { $0.name == "multimodal_input" }?.actual, 16)
    }
}

/// The layout checks of every header set.
let layoutChecks = RKLLMBindings_1_2_3.Layout.checks + RKNNBindings.Layout.checks
