import XCTest

@testable import BindingRuntime

/// A failed call's arguments, repeated in its error, stay short whatever the client sent.
final class ArgumentSummaryTests: XCTestCase {
    func testLongStringsAndArraysAreCutAndSaySoAndTheRestIsKept() {
        let frame = String(repeating: "QUJD", count: 100_000)
        let summary = ArgumentSummary.of([
            "buf": .string(frame), "index": 0, "ids": .array((0..<10).map { .int($0) }), "name": "short",
        ])
        XCTAssertEqual(summary["buf"], .string(String(frame.prefix(48)) + "... (400000 bytes)"))
        XCTAssertEqual(summary["ids"], [0, 1, 2, 3, "... (10 items)"])
        XCTAssertEqual(summary["index"], 0)
        XCTAssertEqual(summary["name"], "short")
        var deep: JSONValue = 1
        for _ in 0..<10 { deep = [deep] }
        XCTAssertLessThan(ArgumentSummary.of(deep).jsonText.count, 30, "nesting is cut too")
    }
}
