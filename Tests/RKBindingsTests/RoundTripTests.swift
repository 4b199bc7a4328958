import Foundation
import RKLLMBindings_1_2_3
import RKNNBindings
import XCTest

/// JSON -> C -> JSON for the generated mirrors.
final class RoundTripTests: XCTestCase {
    private func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    private func roundTrip<T: CRecordMirror>(_ type: T.Type, _ text: String) throws -> JSONValue {
        let arena = Arena()
        arena.confinePath = { value, _, _ in value }
        let value = try T(json: try json(text), path: "x")
        // The C value points into the arena: read it back while the arena lives.
        return try withExtendedLifetime(arena) { T(try value.cValue(arena)).json }
    }

    func testEveryGeneratedTypeRoundTripsItsZeroValue() throws {
        XCTAssertGreaterThanOrEqual((RKLLMBindings_1_2_3.API.recordTypes + RKNNBindings.API.recordTypes).count, 38)
        for type in RKLLMBindings_1_2_3.API.recordTypes + RKNNBindings.API.recordTypes {
            func check<T: CRecordMirror>(_ t: T.Type) throws {
                let arena = Arena()
                let zero = T()
                try withExtendedLifetime(arena) {
                    XCTAssertEqual(T(try zero.cValue(arena)).json, zero.json, "\(T.self)")
                }
                XCTAssertEqual(try T(json: zero.json, path: "x").json, zero.json, "\(T.self) from its own JSON")
            }
            try check(type)
        }
    }

    func testPathFieldsGoThroughTheHostsConfinement() throws {
        let param = try RKLLMBindings_1_2_3.API.RKLLMParam(
            json: try json(#"{"model_path": "demo.rkllm", "img_start": "<img>"}"#), path: "param")
        XCTAssertThrowsError(try param.cValue(Arena()), "no confinement, no path") { error in
            XCTAssertEqual((error as? RPCError)?.code, RPCError.Code.notPermitted)
        }
        let arena = Arena()
        var asked: [String] = []
        arena.confinePath = { value, kind, path in
            asked.append("\(kind) \(path) \(value)")
            return "/srv/models/" + value
        }
        let c = try param.cValue(arena)
        XCTAssertEqual(asked, ["model RKLLMParam.model_path demo.rkllm"], "only the annotated field is a path")
        XCTAssertEqual(String(cString: c.model_path!), "/srv/models/demo.rkllm")
        XCTAssertEqual(String(cString: c.img_start!), "<img>")
    }

    func testStringsNumbersNestedStructsAndEnumsByName() throws {
        let out = try roundTrip(
            RKLLMBindings_1_2_3.API.RKLLMParam.self,
            """
            {"model_path": "/models/demo.rkllm", "max_context_len": 4096, "top_p": 0.5, "is_async": true,
             "img_start": "<img>", "extend_param": {"base_domain_id": 1, "n_batch": 2, "enabled_cpus_mask": 240}}
            """)
        XCTAssertEqual(out["model_path"], .string("/models/demo.rkllm"))
        XCTAssertEqual(out["max_context_len"], .int(4096))
        XCTAssertEqual(out["top_p"], .double(0.5))
        XCTAssertEqual(out["is_async"], .bool(true))
        XCTAssertEqual(out["img_start"], .string("<img>"))
        XCTAssertEqual(out["img_end"], .null)
        XCTAssertEqual(out["extend_param"]?["n_batch"], .int(2))
        XCTAssertEqual(out["extend_param"]?["enabled_cpus_mask"], .int(240))
    }

    func testFixedArraysCharArraysAndEnums() throws {
        let out = try roundTrip(
            RKNNBindings.API.rknn_tensor_attr.self,
            """
            {"index": 1, "n_dims": 4, "dims": [1, 640, 640, 3], "name": "images", "fmt": "RKNN_TENSOR_NHWC",
             "type": 3, "qnt_type": "RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC", "zp": -128, "scale": 0.25}
            """)
        guard case .array(let dims)? = out["dims"] else { return XCTFail("dims") }
        XCTAssertEqual(Array(dims.prefix(4)), [.int(1), .int(640), .int(640), .int(3)])
        XCTAssertEqual(dims.count, 16)
        XCTAssertEqual(out["name"], .string("images"))
        XCTAssertEqual(out["fmt"], .string("RKNN_TENSOR_NHWC"))
        XCTAssertEqual(out["type"], .string("RKNN_TENSOR_UINT8"), "enums accept numbers and answer names")
        XCTAssertEqual(out["zp"], .int(-128))
    }

    func testTaggedAnonymousUnionAndCountedArrays() throws {
        let tokens = try roundTrip(
            RKLLMBindings_1_2_3.API.RKLLMInput.self,
            """
            {"role": "user", "input_type": "RKLLM_INPUT_TOKEN", "token_input": {"input_ids": [1, 2, 3]}}
            """)
        XCTAssertEqual(tokens["token_input"]?["input_ids"], .array([.int(1), .int(2), .int(3)]))
        XCTAssertEqual(tokens["token_input"]?["n_tokens"], .int(3), "the count field follows the array")
        XCTAssertEqual(tokens["prompt_input"], .null, "only the member the tag selects is read")
        let prompt = try roundTrip(
            RKLLMBindings_1_2_3.API.RKLLMInput.self, #"{"input_type": 0, "prompt_input": "Hello"}"#)
        XCTAssertEqual(prompt["prompt_input"], .string("Hello"))
        XCTAssertEqual(prompt["input_type"], .string("RKLLM_INPUT_PROMPT"))
    }

    func testBadValuesNameTheirPath() throws {
        XCTAssertThrowsError(
            try RKLLMBindings_1_2_3.API.RKLLMParam(
                json: try json(#"{"extend_param": {"n_batch": 300}}"#), path: "param")
        ) {
            XCTAssertEqual(($0 as? RPCError)?.code, -32602)
            XCTAssertTrue(($0 as? RPCError)?.message.contains("param.extend_param.n_batch") == true, "\($0)")
        }
        XCTAssertThrowsError(
            try RKLLMBindings_1_2_3.API.RKLLMParam(json: try json(#"{"modle_path": "x"}"#), path: "param")
        ) {
            XCTAssertTrue("\($0)".contains("modle_path"))
        }
        XCTAssertThrowsError(try RKNNBindings.API.rknn_tensor_attr(json: try json(#"{"fmt": "NOPE"}"#), path: "attr"))
        let long = String(repeating: "x", count: 300)
        let attr = try RKNNBindings.API.rknn_tensor_attr(json: try json("{\"name\": \"\(long)\"}"), path: "attr")
        XCTAssertThrowsError(try attr.cValue(Arena()), "a string longer than char[256] is refused")
    }

    func testConstantsAndOpenRPCAreGenerated() throws {
        XCTAssertEqual(RKLLMDescription_1_2_3.Constants.rkllm["RKLLM_RUN_FINISH"], .int(2))
        XCTAssertEqual(RKLLMDescription_1_2_3.Constants.rkllm["CPU7"], .int(128))
        XCTAssertEqual(RKNNDescription.Constants.rknn["RKNN_ERR_INCOMPATILE_PRE_COMPILE_MODEL"], .int(-11))
        XCTAssertEqual(RKNNDescription.Constants.rknn["RKNN_NPU_CORE_UNDEFINED"], .int(0x10000))
        // Each header set's document describes its methods, get_constants included; the table
        // calls every one that has a C function.
        let descriptions = [RKLLMDescription_1_2_3.RuntimeDescriptions.rkllm, RKNNDescription.RuntimeDescriptions.rknn]
        for description in descriptions {
            let document = try JSONSerialization.jsonObject(with: Data(description.openRPC.utf8)) as? [String: Any]
            let methods = try XCTUnwrap(document?["methods"] as? [[String: Any]])
            XCTAssertEqual(Set(methods.compactMap { $0["name"] as? String }), Set(description.methods.map(\.method)))
        }
        XCTAssertEqual(descriptions.map(\.methods.count).reduce(0, +), 52, "50 functions and two get_constants")
        XCTAssertEqual(
            RKLLMBindings_1_2_3.HostedRuntimes.rkllm.entries.count + RKNNBindings.HostedRuntimes.rknn.entries.count, 50)
        // What only a comment of the header says reaches rpc.discover.
        let llm = try JSONSerialization.jsonObject(with: Data(descriptions[0].openRPC.utf8))
        let isRunning = ((llm as? [String: Any])?["methods"] as? [[String: Any]])?.first {
            $0["name"] as? String == "rkllm.is_running"
        }
        XCTAssertEqual(isRunning?["description"] as? String, "Result: 0 while a task is running, non-zero otherwise.")
    }
}
