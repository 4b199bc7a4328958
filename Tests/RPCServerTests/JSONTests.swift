import BindingRuntime
import XCTest

final class JSONTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    private func parseError(_ bytes: [UInt8]) -> JSONParser.Error? {
        do {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    func testValuesKeepTheirExactKindAndKeyOrder() throws {
        let value = try parse(#" {"b": 1, "a": [true, false, null, -0, 1.5e3, "x"], "c": {}} "#)
        guard case .object(let object) = value else { return XCTFail("not an object") }
        XCTAssertEqual(object.keys, ["b", "a", "c"])
        XCTAssertEqual(value["a"], [true, false, nil, .int(0), .double(1500), "x"])
        XCTAssertEqual(value["c"], .object([:]))
    }

    func testIntegersAreExactToSixtyFourBitsAndLargerOnesAreDoubles() throws {
        XCTAssertEqual(try parse("9223372036854775807"), .int(Int64.max))
        XCTAssertEqual(try parse("-9223372036854775808"), .int(Int64.min))
        XCTAssertEqual(try parse("18446744073709551615"), .uint(UInt64.max))
        XCTAssertEqual(try parse("123456789012345678901234567890"), .double(1.2345678901234568e29))
        XCTAssertEqual(try parse("-123456789012345678901234567890"), .double(-1.2345678901234568e29))
        XCTAssertNotNil(parseError(Array("1e999".utf8)), "out of range for a double")
        XCTAssertNotNil(parseError(Array("01".utf8)))
        XCTAssertNotNil(parseError(Array("1.".utf8)))
        XCTAssertNotNil(parseError(Array("-".utf8)))
        XCTAssertNotNil(parseError(Array("1e".utf8)))
    }

    func testStringsEscapesAndSurrogates() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#), .string("a\"b\\c/d\n\té😀"))
        XCTAssertNotNil(parseError(Array(#""\ud83d""#.utf8)), "unpaired high surrogate")
        XCTAssertNotNil(parseError(Array(#""\ude00""#.utf8)), "lone low surrogate")
        XCTAssertNotNil(parseError(Array(#""\x""#.utf8)))
        XCTAssertNotNil(parseError(Array("\"a\nb\"".utf8)), "raw control character")
        XCTAssertNotNil(parseError(Array("\"abc".utf8)))
    }

    func testInvalidUTF8IsRejected() {
        XCTAssertNotNil(parseError([0x22, 0xC3, 0x28, 0x22]))
        XCTAssertNotNil(parseError([0x22, 0xED, 0xA0, 0x80, 0x22]), "encoded surrogate")
        XCTAssertNotNil(parseError([0x22, 0x5C, 0x6E, 0xFF, 0x22]), "invalid after an escape")
        XCTAssertNotNil(parseError([0xFF]))
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let deep =
            [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
            + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)
        XCTAssertEqual(parseError(deep)?.message, "nesting deeper than \(JSONParser.defaultMaxDepth)")
        let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        XCTAssertNoThrow(try parse(ok))
    }

    func testTrailingDataAndEmptyInputAreErrors() {
        XCTAssertNotNil(parseError(Array("{} {}".utf8)))
        XCTAssertNotNil(parseError([]))
        XCTAssertNotNil(parseError(Array("tru".utf8)))
        XCTAssertNotNil(parseError(Array("[1,]".utf8)))
        XCTAssertNotNil(parseError(Array(#"{"a" 1}"#.utf8)))
    }

    func testRepeatedKeysKeepTheLastValueInTheFirstPlace() throws {
        let small = try parse(#"{"a": 1, "b": 2, "a": 3}"#)
        XCTAssertEqual(small, .object(JSONObject([("a", .int(3)), ("b", .int(2))])))
        let many = (0..<100).map { "\"k\($0 % 50)\": \($0)" }.joined(separator: ",")
        guard case .object(let object) = try parse("{\(many)}") else { return XCTFail() }
        XCTAssertEqual(object.count, 50)
        XCTAssertEqual(object["k0"], .int(50))
    }

    func testTheScanFindsTheFirstSpecialByteWhereverItIs() {
        // Eight bytes at a time and then one by one: each special byte at each position of texts
        // longer and shorter than a word, behind plain text and behind other special bytes.
        func reference(_ bytes: [UInt8], from start: Int) -> Int {
            bytes[start...].firstIndex { $0 < 0x20 || $0 >= 0x80 || $0 == 0x22 || $0 == 0x5C } ?? bytes.count
        }
        for special: UInt8 in [0x00, 0x0A, 0x1F, 0x22, 0x5C, 0x80, 0xC3, 0xFF] {
            for length in 0..<20 {
                for at in 0..<max(1, length) {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    if at < length { bytes[at] = special }
                    if at + 1 < length { bytes[at + 1] = 0x00 }  // a second one right after
                    for start in 0...min(length, 3) {
                        let found = bytes.withUnsafeBufferPointer {
                            JSONScan.firstSpecial(
                                $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, from: start, to: length)
                        }
                        XCTAssertEqual(found, reference(bytes, from: start), "\(special) at \(at) of \(length)")
                    }
                }
            }
        }
        // Bytes that borrow in the word arithmetic but are plain: 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F.
        let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x41, 0x7E, 0x20, 0x21]
        XCTAssertEqual(plain.withUnsafeBufferPointer { JSONScan.firstSpecial($0.baseAddress!, from: 0, to: 10) }, 10)
    }

    func testTheCursorWritesAScalarWholeOrNotAtAll() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8) { buffer in
            var cursor = ByteCursor(buffer)
            XCTAssertTrue(cursor.put(scalar: "abc"))
            XCTAssertFalse(cursor.put(scalar: "defg"), "one byte short: nothing of it written")
            XCTAssertFalse(cursor.put(scalar: .int(-100)))
            XCTAssertTrue(cursor.put(scalar: .int(-10)))
            XCTAssertEqual(Array(cursor.written), Array(#""abc"-10"#.utf8))
            XCTAssertFalse(cursor.put(byte: 0x20), "full")
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer in
            var cursor = ByteCursor(buffer)
            for refused: JSONValue in ["a\"b", "é", "\u{1}", .double(1), [], [:]] {
                XCTAssertFalse(cursor.put(scalar: refused), "\(refused) is written by the general writer")
            }
            XCTAssertTrue(cursor.written.isEmpty)
        }
    }

    func testWriterRoundTripsAndEscapes() throws {
        let value: JSONValue = [
            "s": "quote\" back\\ nl\n tab\t bell\u{7} é😀",
            "n": [.int(-5), .uint(UInt64.max), .double(0.1), .double(2), nil, true],
        ]
        let text = value.jsonText
        XCTAssertEqual(
            text, #"{"s":"quote\" back\\ nl\n tab\t bell\u0007 é😀","n":[-5,18446744073709551615,0.1,2.0,null,true]}"#)
        XCTAssertEqual(try parse(text), value)
        XCTAssertEqual(JSONValue.double(.nan).jsonText, "null")
        XCTAssertEqual(JSONValue.int(Int64.min).jsonText, "-9223372036854775808")
    }
}
