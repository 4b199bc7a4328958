import BindingRuntime
import CLinux
import Foundation
import XCTest

/// Buffers and counts a client sends, and memory it maps: every buffer the daemon passes to C is
/// as long as the function reads and writes, every count checked against its array, every mapped
/// descriptor holds what is mapped and cannot shrink; the runtime host (shared here, beside the
/// bystander's context) never crashes.
final class BufferTests: XCTestCase {
    func testABufferShorterThanTheFunctionReadsIsRefused() throws {
        // One RKNN host: the bystander's context beside the attacker's.
        let daemon = try Bystander.daemon(arguments: ["--rknn-shared-host", "1"])
        let bystander = try Bystander(daemon)
        let attacker = try Client(daemon.socket)
        func convert(_ bytes: Int, k: Int, n: Int, type: String) throws -> JSONValue {
            try attacker.request(
                "rknn.B_normal_layout_to_native_layout",
                [
                    .string(Data(count: bytes).base64EncodedString()), .int(Int64(k)), .int(Int64(n)),
                    ["M": 1, "K": .int(Int64(k)), "N": .int(Int64(n)), "type": .string(type), "B_layout": 1],
                ])
        }
        // 64 bytes for a 32 x 32 int8 B (1024 read, 1024 written): refused, nothing written past the buffer.
        let short = try convert(64, k: 32, n: 32, type: "RKNN_INT8_MM_INT8_TO_INT32")
        XCTAssertEqual(short["error"]?["code"], .int(Int64(RPCError.Code.invalidParams)))
        XCTAssertEqual(short["error"]?["message"], "invalid params: B_input: holds 64 bytes; the function reads 1024")
        XCTAssertEqual(
            try convert(1024, k: 32, n: 32, type: "RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32")["error"]?["message"],
            "invalid params: B_input: holds 1024 bytes; the function reads 2048", "float16: two bytes an element")
        XCTAssertEqual(
            try convert(16, k: -32, n: 64, type: "RKNN_INT8_MM_INT8_TO_INT32")["error"]?["code"],
            .int(Int64(RPCError.Code.invalidParams)))
        // Exactly enough: converted (int4 packs two elements a byte).
        XCTAssertNotNil(try convert(1024, k: 32, n: 32, type: "RKNN_INT8_MM_INT8_TO_INT32")["result"]?["B_output"])
        XCTAssertNotNil(try convert(1024, k: 32, n: 64, type: "RKNN_INT8_MM_INT4_TO_INT32")["result"]?["B_output"])
        attacker.hangUp()
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testMemoryThatCouldShrinkUnderTheRuntimeIsRefused() throws {
        // One RKNN host: the bystander's context beside the attacker's.
        let daemon = try Bystander.daemon(arguments: ["--rknn-shared-host", "1"])
        let bystander = try Bystander(daemon)
        let attacker = try Client(daemon.socket)
        let context = try XCTUnwrap(try attacker.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        func fromFD(_ fd: Int32, size: Int) throws -> JSONValue {
            let request: JSONValue = [
                "jsonrpc": "2.0", "id": 1, "method": "rknn.create_mem_from_fd",
                "params": [context, 0, .int(Int64(size)), 0],
            ]
            try attacker.send(request.jsonText + "\n", fds: [fd])
            Glibc.close(fd)
            return try attacker.readMessage()
        }
        // An empty memfd claimed to hold 32 bytes: refused before the runtime maps it.
        let empty = try fromFD(clinux_sealable_memfd("empty"), size: 32)
        XCTAssertEqual(empty["error"]?["code"], .int(Int64(RPCError.Code.invalidParams)))
        XCTAssertEqual(empty["error"]?["message"], "invalid params: fd: the descriptor holds 0 bytes; 32 are mapped")
        // A memfd that cannot be sealed, and a plain file: either could shrink later.
        let unsealable = memfd_create("unsealable", 0)
        ftruncate(unsealable, 4096)
        XCTAssertEqual(try fromFD(unsealable, size: 4096)["error"]?["code"], .int(Int64(RPCError.Code.invalidParams)))
        let file = open(NSTemporaryDirectory() + "rknn-test-\(getpid()).bin", O_RDWR | O_CREAT | O_TRUNC, 0o600)
        ftruncate(file, 4096)
        unlink(NSTemporaryDirectory() + "rknn-test-\(getpid()).bin")
        XCTAssertEqual(
            try fromFD(file, size: 4096)["error"]?["message"],
            "invalid params: fd: a plain file can shrink under the runtime's mapping: send a memfd")
        // A sealable one is sealed on the way: the client cannot shrink it any more.
        let sealed = clinux_sealable_memfd("sealed")
        ftruncate(sealed, 4096)
        let kept = dup(sealed)
        XCTAssertNotNil(try fromFD(sealed, size: 4096)["result"]?["return"])
        XCTAssertEqual(ftruncate(kept, 0), -1, "sealed against shrinking")
        Glibc.close(kept)
        // The runtime's own memory: the client cannot shrink what it was handed either.
        let made = try attacker.call("rknn.create_mem", [context, 64])
        let handed = try XCTUnwrap(attacker.receivedFDs.last)
        XCTAssertEqual(ftruncate(handed, 0), -1, "the runtime's memfd is sealed against shrinking")
        attacker.receivedFDs.forEach { Glibc.close($0) }
        attacker.receivedFDs = []
        guard
            case .object(var attr)? = try attacker.call(
                "rknn.query", [context, "RKNN_QUERY_INPUT_ATTR", ["index": 0]])["info"]
        else { return XCTFail() }
        attr["type"] = "RKNN_TENSOR_FLOAT32"
        XCTAssertEqual(try attacker.call("rknn.set_io_mem", [context, made["return"]!, .object(attr)]), .object([:]))
        XCTAssertEqual(try attacker.call("rknn.run", [context]), .object([:]))
        // The shared host never died (no SIGBUS): the bystander's context still runs.
        attacker.hangUp()
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testCountsBeyondTheArraysSentAreRefused() throws {
        let daemon = try Bystander.daemon()
        let bystander = try Bystander(daemon)
        let attacker = try Client(daemon.socket)
        let handle = try XCTUnwrap(try attacker.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"])
        // 2^62 embedded tokens in 4 bytes: refused before the runtime reads past them.
        let oneFloat = JSONValue.string(Data(count: 4).base64EncodedString())
        let huge = try attacker.request(
            "rkllm.run",
            [
                handle,
                [
                    "input_type": "RKLLM_INPUT_EMBED",
                    "embed_input": ["embed": oneFloat, "n_tokens": .int(1 << 62)],
                ],
            ])
        XCTAssertEqual(huge["error"]?["code"], .int(Int64(RPCError.Code.invalidParams)))
        XCTAssertEqual(
            huge["error"]?["message"],
            "invalid params: RKLLMEmbedInput.embed: holds 1 elements; n_tokens = 4611686018427387904 are read")
        let images = try attacker.request(
            "rkllm.run",
            [
                handle,
                [
                    "input_type": "RKLLM_INPUT_MULTIMODAL",
                    "multimodal_input": TestABI.images(
                        prompt: "<image>", embed: oneFloat, tokens: .int(1 << 40), count: .int(1 << 40)),
                ],
            ])
        let record = TestABI.is13 ? "RKLLMMultiModalInput_image" : "RKLLMMultiModalInput"
        XCTAssertEqual(
            images["error"]?["message"],
            .string(
                "invalid params: \(record).image_embed: holds 1 elements; n_image x n_image_tokens = more than any buffer are read"
            )
        )
        XCTAssertEqual(
            try attacker.stream("rkllm.run", [handle, RKLLMTests.prompt("hello world")]).text, RKLLMTests.helloReply,
            "the attacker's own model is unharmed too")
        attacker.hangUp()
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }
}
