import APIModel
import ClangImport
import XCTest

final class ImporterTests: XCTestCase {
    private func quirks(target: String? = nil) throws -> APIModel {
        try HeaderImporter(headersDirectory: Paths.fixture("quirks"), target: target).run()
    }

    func testMacrosOfEveryKindAreEvaluated() throws {
        let macros = Dictionary(uniqueKeysWithValues: try quirks().macros.map { ($0.name, $0.value) })
        XCTAssertEqual(macros["Q_INT"], .integer(42))
        XCTAssertEqual(macros["Q_NEG"], .integer(-14))
        XCTAssertEqual(macros["Q_SHIFT"], .integer(32))
        XCTAssertEqual(macros["Q_EXPR"], .integer((44 * 3) | 0x100))
        XCTAssertEqual(macros["Q_HEX"], .integer(0xffff))
        XCTAssertEqual(macros["Q_STRING"], .string("quirk \"v1\""))
        XCTAssertNil(macros["Q_FUNCLIKE"], "function-like macros are not constants")
        XCTAssertNil(macros["QUIRKS_H"], "include guards are not constants")
    }

    func testEnumsWithImplicitExplicitAndNegativeValues() throws {
        let model = try quirks()
        let e = try XCTUnwrap(model.enumeration(named: "QImplicit"))
        XCTAssertEqual(e.constants.map(\.value), [0, 1, 10, 11, -3])
        XCTAssertEqual(e.size, 4)
        XCTAssertNotNil(model.enumeration(named: "q_tagged"), "a tagged enum is known by its typedef name")
    }

    func testRecordWithEveryMemberKind() throws {
        let model = try quirks()
        let r = try XCTUnwrap(model.record(named: "QRecord"))
        let fields = Dictionary(uniqueKeysWithValues: r.fields.filter { !$0.name.isEmpty }.map { ($0.name, $0) })
        XCTAssertEqual(fields["name"]?.type, .pointer(to: .char, isConst: true))
        XCTAssertEqual(fields["flag"]?.type, .bool)
        XCTAssertEqual(fields["length"]?.type, .integer(name: "size_t", bytes: 8, signed: false))
        XCTAssertEqual(fields["bytes"]?.type, .array(of: .integer(name: "uint8_t", bytes: 1, signed: false), count: 4))
        XCTAssertEqual(
            fields["grid"]?.type,
            .array(of: .array(of: .integer(name: "uint32_t", bytes: 4, signed: false), count: 3), count: 2))
        XCTAssertEqual(fields["label"]?.type, .array(of: .char, count: 16))
        XCTAssertEqual(fields["on_event"]?.type.typedefChain, ["QCallback"])
        guard case .pointer(let to, _)? = fields["inline_fn"]?.type, case .function(let f) = to else {
            return XCTFail("inline function pointer not read")
        }
        XCTAssertEqual(f.parameters, [.integer(name: "int", bytes: 4, signed: true)])
        // The anonymous union is a member without a name whose fields are the struct's.
        let anonymous = try XCTUnwrap(r.fields.first(where: \.isAnonymousMember))
        guard case .record(let unionName) = anonymous.type, let union = model.record(named: unionName) else {
            return XCTFail("anonymous union not modelled")
        }
        XCTAssertEqual(union.kind, .union)
        XCTAssertEqual(union.fields.map(\.name), ["as_int", "as_float"])
        XCTAssertEqual(anonymous.offset, 88)
        // The unnamed struct type behind `size` gets a synthesised name, never a spelling with a path.
        XCTAssertEqual(fields["size"]?.type, .record("QRecord_size"))
        XCTAssertEqual(model.record(named: "QRecord_size")?.swiftPath, "__Unnamed_struct_size")
        XCTAssertFalse(model.records.contains { $0.name.contains("/") || $0.name.contains("(") })
    }

    func testFunctionsIncludingKAndRAndIncompleteArraysButNotInlineHelpers() throws {
        let model = try quirks()
        XCTAssertEqual(model.functions.map(\.name), ["q_default", "q_process", "q_open"])
        XCTAssertEqual(model.inlineHelpers.map(\.name), ["q_helper"])
        let kr = try XCTUnwrap(model.function(named: "q_default"))
        XCTAssertFalse(kr.hasPrototype)
        XCTAssertTrue(kr.parameters.isEmpty)
        XCTAssertTrue(model.diagnostics.contains { $0.message.contains("K&R") })
        let process = try XCTUnwrap(model.function(named: "q_process"))
        XCTAssertEqual(process.parameters[1].type, .array(of: .record("QRecord"), count: nil))
        XCTAssertEqual(process.parameters[0].type.typedefChain, ["q_context"])
        let open = try XCTUnwrap(model.function(named: "q_open"))
        XCTAssertEqual(open.parameters.map(\.name), ["handle", "path", "cb"])
    }

    func testTargetDependentTypedefsFollowTheTriple() throws {
        let host = try quirks(target: "x86_64-unknown-linux-gnu")
        let arm = try quirks(target: "armv7-unknown-linux-gnueabihf")
        func context(_ m: APIModel) -> CType? { m.typedefs.first { $0.name == "q_context" }?.underlying }
        XCTAssertEqual(context(host), .integer(name: "uint64_t", bytes: 8, signed: false))
        XCTAssertEqual(context(arm), .integer(name: "uint32_t", bytes: 4, signed: false))
        XCTAssertEqual(host.record(named: "q_node")?.size, 16)
        XCTAssertEqual(arm.record(named: "q_node")?.size, 8)
    }

    func testUnreadableHeaderIsAnErrorWithFileAndLine() throws {
        XCTAssertThrowsError(try HeaderImporter(headersDirectory: Paths.fixture("broken")).run()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("broken.h:4: error:"), text)
            XCTAssertTrue(text.contains("error:"), text)
        }
    }

    func testProjectHeadersLayoutsMatchTheABIFacts() throws {
        let models = try Paths.headerSets.map {
            try HeaderImporter(headersDirectory: $0, preludeDirectory: Paths.prelude).run()
        }
        let sizes = Dictionary(uniqueKeysWithValues: models.flatMap(\.records).map { ($0.name, $0.size) })
        let expected = [
            "RKLLMParam": 208, "RKLLMExtendParam": 120, "RKLLMInput": 64, "RKLLMResult": 72,
            "RKLLMMultiModalInput": 48, "rknn_tensor_attr": 376, "rknn_input_range": 33040,
            "rknn_matmul_info": 64, "rknn_matmul_io_attr": 996, "rknn_custom_op": 832,
            "rknn_custom_op_tensor": 416, "rknn_init_extend": 136, "rknn_quant_params": 288,
        ]
        for (name, size) in expected { XCTAssertEqual(sizes[name], size, name) }
        XCTAssertEqual(models.map(\.functions.count), [15, 35])
    }
}
