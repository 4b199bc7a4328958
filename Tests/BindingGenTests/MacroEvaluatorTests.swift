import XCTest

@testable import ClangImport

final class MacroEvaluatorTests: XCTestCase {
    private func eval(_ tokens: [MacroEvaluator.Token]) -> Int64? {
        var e = MacroEvaluator(tokens: tokens) { $0 == "BASE" ? .integer(8) : nil }
        if case .integer(let v)? = e.evaluate() { return v }
        return nil
    }

    func testLiteralsAndOperators() {
        XCTAssertEqual(MacroEvaluator.integerLiteral("0x10UL"), 16)
        XCTAssertEqual(MacroEvaluator.integerLiteral("017"), 15)
        XCTAssertEqual(MacroEvaluator.integerLiteral("0"), 0)
        XCTAssertEqual(eval([.punctuation("-"), .literal("1")]), -1)
        XCTAssertEqual(eval([.identifier("BASE"), .punctuation("<<"), .literal("2")]), 32)
        XCTAssertEqual(eval([.literal("1"), .punctuation("+"), .literal("2"), .punctuation("*"), .literal("3")]), 7)
        XCTAssertEqual(eval([.punctuation("("), .identifier("uint32_t"), .punctuation(")"), .literal("5")]), 5)
        XCTAssertNil(eval([.identifier("UNKNOWN")]))
        XCTAssertNil(eval([.literal("1"), .punctuation("/"), .literal("0")]))
    }
}
