import BindingRuntime
import Foundation
import RKClient
import RKNNBindings
import XCTest

/// The Swift client against the daemon: one connection shared by concurrent tasks, the generated
/// types encoded as parameters, streams, cancellation by the consuming task, typed errors,
/// descriptors.
final class RKClientTests: XCTestCase {
    private func daemon() throws -> Daemon {
        try RKLLMTests.simulated(["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so"), "RKLLM_SIM_TOKEN_US": "20000"])
    }

    func testConcurrentTasksShareOneConnectionAndStreamsEnd() async throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let client = try RKClient(socket: daemon.socket)
        let pongs = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for _ in 0..<50 { group.addTask { try await client.call("server.ping") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(pongs, Array(repeating: "pong", count: 50))
        // A generated struct, encoded with its C field names, is a method's parameter.
        var info = API.rknn_matmul_info()
        (info.M, info.K, info.N, info.type) = (4, 64, 32, API.rknn_matmul_type(rawValue: 2))
        let matmul = try await client.call("rknn.matmul_create", encoding: [info])
        XCTAssertEqual(matmul["io_attr"]?["C"]?["dims"]?[1], 32)
        let handle = try await client.call("rkllm.init", [["model_path": "demo"]])["handle"]
        var text = ""
        var last: JSONValue = .null
        for try await message in client.stream("rkllm.run", [handle ?? .null, ["prompt_input": "hello world"]]) {
            if case .string(let piece)? = message["text"] { text += piece }
            last = message
        }
        XCTAssertEqual(text, RKLLMTests.helloReply)
        XCTAssertEqual(last["_ended"], "finished")
        client.close()
    }

    func testCancellingTheConsumingTaskCancelsTheRequest() async throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let client = try RKClient(socket: daemon.socket)
        _ = try await client.call("rkllm.init", [["model_path": "demo"]])
        let firstPiece = AsyncStream<Void>.makeStream()
        let consumer = Task {
            defer { firstPiece.continuation.finish() }  // however it ends, the wait below ends
            for try await _ in client.stream("rkllm.run", [nil, ["prompt_input": "hello world"]]) {
                firstPiece.continuation.yield()
            }
        }
        for await _ in firstPiece.stream { break }
        consumer.cancel()
        // The daemon ends the run: no stream runs any more, and the connection goes on.
        var running: JSONValue?
        let deadline = Date().addingTimeInterval(60)
        repeat {
            running = try await client.call("server.stats")["runtimes"]?["rkllm"]?["streams_running"]
        } while running != 0 && Date() < deadline
        XCTAssertEqual(running, 0, "the cancelled run ended")
        let pong = try await client.call("server.ping")
        XCTAssertEqual(pong, "pong")
    }

    func testErrorsAreTypedAndDescriptorsArrive() async throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let client = try RKClient(socket: daemon.socket)
        do {
            _ = try await client.call("rkllm.init", [["model_path": 42]])
            XCTFail("a number for a path")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, RPCError.Code.invalidParams)
            XCTAssertNotNil(error.data?["param"])
        }
        // Tensors in shared memory: the float model reads its input from one mapping and writes
        // its output into another, no tensor bytes through the socket.
        let context = try await client.call("rknn.init", ["model_path": "demo-float"])["context"] ?? .null
        var memories: [(handle: JSONValue, mapped: SharedMemory)] = []
        for kind in ["RKNN_QUERY_INPUT_ATTR", "RKNN_QUERY_OUTPUT_ATTR"] {
            let attr = try await client.call("rknn.query", [context, .string(kind), ["index": 0]])["info"] ?? .null
            let handle = try await client.call("rknn.create_mem", [context, 32])["return"] ?? .null
            let mapped = try XCTUnwrap(
                client.mapFileDescriptor(size: 32), "the memory's descriptor came with the answer")
            _ = try await client.call("rknn.set_io_mem", [context, handle, attr])
            memories.append((handle, mapped))
        }
        let input = memories[0].mapped.bytes.bindMemory(to: Float.self)
        for i in 0..<8 { input[i] = Float(i) }
        _ = try await client.call("rknn.run", [context])
        XCTAssertEqual(Array(memories[1].mapped.bytes.bindMemory(to: Float.self)), [1, 3, 5, 7, 9, 11, 13, 15])
        for memory in memories { _ = try await client.call("rknn.destroy_mem", [context, memory.handle]) }
        memories.removeAll()
        client.close()
        do {
            _ = try await client.call("server.ping")
            XCTFail("a closed client")
        } catch let error as RPCError {
            XCTAssertEqual(error.code, RPCError.Code.shuttingDown)
        }
    }
}

extension RKClientTests {
    func testAnLLMGeneratesTextPieceByPiece() async throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let client = try RKClient(socket: daemon.socket)
        let llm = try await LLM("demo", client: client)
        var reply = ""
        for try await piece in llm.generate(prompt: "hello world") { reply += piece }
        XCTAssertEqual(reply, RKLLMTests.helloReply)
        let short = try await LLM("demo", client: client, params: ["max_new_tokens": 3])
        var cut = ""
        for try await piece in short.generate(prompt: "hello world") { cut += piece }
        XCTAssertEqual(cut, "Hello from the")
        try await llm.close()
        try await short.close()
        client.close()
    }
}

extension RKClientTests {
    func testAModelRunsOnBytesAndSaysItsTensors() async throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let client = try RKClient(socket: daemon.socket)
        let model = try await Model("demo-float", client: client)
        XCTAssertEqual(model.inputs.map(\.shape), [[1, 8]])
        XCTAssertEqual(model.outputs.map(\.name), ["y"])
        XCTAssertEqual(model.inputs.first?.type, "RKNN_TENSOR_FLOAT32")
        let x = (0..<8).map(Float.init).withUnsafeBytes { Array($0) }
        let outputs = try await model.run(inputs: [Model.Input(bytes: x, type: "RKNN_TENSOR_FLOAT32")])
        XCTAssertEqual(outputs, [[1, 3, 5, 7, 9, 11, 13, 15]])
        // Bytes the model cannot take are the daemon's error, and the model goes on.
        do {
            _ = try await model.run(inputs: [Model.Input(bytes: [1, 2, 3], type: "RKNN_TENSOR_FLOAT32")])
            XCTFail("three bytes for eight floats")
        } catch let error as RPCError {
            XCTAssertNotEqual(error.code, RPCError.Code.internalError, error.message)
        }
        let again = try await model.run(inputs: [Model.Input(bytes: x, type: "RKNN_TENSOR_FLOAT32")])
        XCTAssertEqual(again, outputs)
        try await model.close()
        client.close()
    }
}
