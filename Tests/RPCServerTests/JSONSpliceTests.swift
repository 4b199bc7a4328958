import BindingRuntime
import XCTest

/// Values replaced in a JSON text with every other byte as it came (JSONSplice, over
/// JSONParser.skipValue): what the daemon forwards of a large request.
final class JSONSpliceTests: XCTestCase {
    private func splice(_ values: [(place: JSONSplice.Place, value: JSONValue)], _ text: String) -> String? {
        guard let splice = JSONSplice(Array(text.utf8), replacing: values) else { return nil }
        var out: [UInt8] = []
        splice.write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func testOnlyTheReplacedValuesChange() {
        let object = #"{ "context" : 7 , "inputs":[{"buf":"a\"}]b,","x":[1,{"y":"]"}]}], "n": -1.5e3 }"#
        XCTAssertEqual(
            splice([(.member("context"), 12345)], object),
            #"{ "context" : 12345 , "inputs":[{"buf":"a\"}]b,","x":[1,{"y":"]"}]}], "n": -1.5e3 }"#)
        XCTAssertEqual(
            splice([(.member("n"), "x"), (.member("context"), .null)], object),
            #"{ "context" : null , "inputs":[{"buf":"a\"}]b,","x":[1,{"y":"]"}]}], "n": "x" }"#)
        let array = "[ 7,\t\"s,]\\\\\", {\"a\":[1,2]}, true ]"
        XCTAssertEqual(
            splice([(.position(0), "h"), (.position(2), [1])], array), "[ \"h\",\t\"s,]\\\\\", [1], true ]")
        XCTAssertEqual(splice([], array), array)
    }

    func testTheResultReadsAsTheTextWithTheValuesSet() throws {
        let text = #"{"a":"caf\u00e9 \ud83d\ude00","b":[[],{}],"c":{"d":"}"},"e":0}"#
        let spliced = try XCTUnwrap(splice([(.member("c"), ["z": 1]), (.member("e"), "\u{0}\"")], text))
        guard case .object(var expected) = try JSONParser.parse(text) else { return XCTFail("not an object") }
        expected["c"] = ["z": 1]
        expected["e"] = "\u{0}\""
        XCTAssertEqual(try JSONParser.parse(spliced), .object(expected))
    }

    func testAPlaceThatIsNotThereOrTwiceOrTextThatIsNotAContainerIsNil() {
        XCTAssertNil(splice([(.member("missing"), 1)], #"{"a":1}"#))
        XCTAssertNil(splice([(.position(1), 1)], "[0]"))
        XCTAssertNil(splice([(.member("a"), 1)], #"{"a":1,"a":2}"#))
        XCTAssertNil(splice([(.member("a"), 1)], #""a""#))
        XCTAssertNil(splice([(.position(0), 1)], "[0] x"))
        XCTAssertNil(splice([(.member("a"), 1)], #"{"a":"unterminated}"#))
        XCTAssertNil(splice([(.member("a"), 1)], "{\"a\":\"\u{1}\"}"))
        XCTAssertNil(splice([(.member("a"), 1)], String(repeating: "[", count: 1000)))
    }
}
