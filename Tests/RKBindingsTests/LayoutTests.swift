import RKBindings
import XCTest

/// The size and every field offset libclang read from Headers/, against what Swift imported.
final class LayoutTests: XCTestCase {
    func testEveryGeneratedLayoutMatchesSwift() {
        XCTAssertGreaterThanOrEqual(Layout.checks.count, 38)
        XCTAssertEqual(Layout.checks.flatMap(\.mismatches), [])
    }

    func testAnonymousUnionMembersAreChecked() throws {
        let input = try XCTUnwrap(Layout.checks.first { $0.type == "RKLLMInput" })
        XCTAssertEqual(input.fields.first { $0.name == "multimodal_input" }?.expected, 16)
        XCTAssertEqual(input.fields.first { $0.name == "multimodal_input" }?.actual, 16)
    }
}
