import Foundation
import RKLLMBindings_1_2_3
import RKNNBindings
import XCTest

/// The generated types are Codable, keyed by the C names: a Swift program encodes a struct with any
/// coder and gets the JSON form the daemon takes.
final class CodableTests: XCTestCase {
    func testAStructEncodesWithItsCFieldNamesAndDecodesBack() throws {
        var param = RKLLMBindings_1_2_3.API.RKLLMParam()
        param.model_path = "demo"
        param.top_k = 40
        param.temperature = 0.5
        let data = try JSONEncoder().encode(param)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["model_path"] as? String, "demo")
        XCTAssertEqual(object["top_k"] as? Int, 40)
        XCTAssertNotNil(object["extend_param"] as? [String: Any], "nested structs by their C names too")
        let decoded = try JSONDecoder().decode(RKLLMBindings_1_2_3.API.RKLLMParam.self, from: data)
        XCTAssertEqual(decoded.json, param.json)
        XCTAssertEqual(decoded.temperature, 0.5)
    }

    func testEnumsEncodeByNameAndDecodeByNameOrNumber() throws {
        let data = try JSONEncoder().encode([RKNNBindings.API.rknn_tensor_type(rawValue: 3)])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["RKNN_TENSOR_UINT8"]"#)
        let decoded = try JSONDecoder().decode(
            [RKNNBindings.API.rknn_tensor_type].self, from: Data(#"["RKNN_TENSOR_INT8", 0]"#.utf8))
        XCTAssertEqual(decoded.map { $0.rawValue }, [2, 0])
    }

    func testWhatTheJSONFormRefusesIsADecodingError() {
        XCTAssertThrowsError(
            try JSONDecoder().decode(RKLLMBindings_1_2_3.API.RKLLMParam.self, from: Data(#"{"no_such_field": 1}"#.utf8))
        ) {
            guard case DecodingError.dataCorrupted(let context) = $0 else { return XCTFail("\($0)") }
            XCTAssertTrue(context.debugDescription.contains("no_such_field"), context.debugDescription)
        }
    }
}
