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

    /// What `../shared/abi/rkllm-1.3.md` says 1.3.0 changed, transcribed by hand (size; field: offset),
    /// against our declaration of its header; every other struct is as in 1.2.3.
    func testTheRKLLM130HeaderHasTheLayoutsOfItsABINotes() throws {
        let facts: [String: (size: Int, offsets: [String: Int])] = [
            "RKLLMCallback": (
                48,
                [
                    "result_callback": 0, "result_userdata": 8, "tokenizer_callback": 16, "tokenizer_userdata": 24,
                    "embed_callback": 32, "embed_userdata": 40,
                ]
            ),
            "RKLLMParam": (
                184,
                [
                    "model_path": 0, "mirostat_eta": 52, "skip_special_token": 56, "ignore_eos_token": 57,
                    "is_async": 58, "extend_param": 60,
                ]
            ),
            "RKLLMSamplingParam": (
                36,
                [
                    "top_k": 0, "top_p": 4, "temperature": 8, "repeat_penalty": 12, "frequency_penalty": 16,
                    "presence_penalty": 20, "mirostat": 24, "mirostat_tau": 28, "mirostat_eta": 32,
                ]
            ),
            "RKLLMInferParam": (
                40,
                [
                    "mode": 0, "lora_params": 8, "prompt_cache_params": 16, "sampling_params": 24, "keep_history": 32,
                    "max_new_tokens": 36,
                ]
            ),
            "RKLLMMultiModalInput": (144, ["prompt": 0, "image": 8, "video": 72]),
            "RKLLMMultiModalInput_image": (
                64,
                [
                    "image_embed": 0, "n_image_tokens": 8, "n_image": 16, "image_start": 24, "image_end": 32,
                    "image_content": 40, "image_width": 48, "image_height": 56,
                ]
            ),
            "RKLLMMultiModalInput_video": (
                72,
                [
                    "video_embed": 0, "n_frame_tokens": 8, "n_frame_per_video": 16, "n_video": 24, "video_start": 32,
                    "video_end": 40, "video_content": 48, "frame_width": 56, "frame_height": 64,
                ]
            ),
            "RKLLMInput": (160, ["role": 0, "enable_thinking": 8, "input_type": 12]),
        ]
        let import130 = try HeaderImporter(headersDirectory: Paths.rkllm130, preludeDirectory: Paths.prelude).run()
        let import123 = try HeaderImporter(headersDirectory: Paths.rkllm, preludeDirectory: Paths.prelude).run()
        let records = Dictionary(uniqueKeysWithValues: import130.records.map { ($0.name, $0) })
        for (name, fact) in facts.sorted(by: { $0.key < $1.key }) {
            let record = try XCTUnwrap(records[name], "\(name) is not in Headers/rkllm/1.3.0/")
            XCTAssertEqual(record.size, fact.size, "\(name): size")
            let offsets = Dictionary(record.fields.map { ($0.name, $0.offset) }) { first, _ in first }
            for (field, offset) in fact.offsets.sorted(by: { $0.key < $1.key }) {
                XCTAssertEqual(offsets[field], offset, "\(name).\(field)")
            }
        }
        for old in import123.records where facts[old.name] == nil && !old.isAnonymousMember {
            XCTAssertEqual(records[old.name]?.size, old.size, "\(old.name) is as in 1.2.3")
        }
        XCTAssertEqual(import130.functions.map(\.name), import123.functions.map(\.name), "no function added or removed")
    }
}
