import BindingRuntime
import Foundation
import XCTest

/// The requests the seed's design document shows, sent as written (its `/models/` is this
/// daemon's model directory, holding the demo models under the document's names).
final class SeedRequestsTests: XCTestCase {
    private func daemon(_ environment: [String: String] = [:]) throws -> (Daemon, String) {
        let daemon = try RKLLMTests.simulated(
            ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")].merging(environment) { $1 })
        let models = daemon.directory + "/models"
        try FileManager.default.createSymbolicLink(
            atPath: models + "/qwen3.rkllm", withDestinationPath: Built.models + "/demo.rkllm")
        try FileManager.default.createSymbolicLink(
            atPath: models + "/yolo.rknn", withDestinationPath: Built.models + "/demo.rknn")
        try FileManager.default.createDirectory(atPath: models + "/lora", withIntermediateDirectories: true)
        try Models.lora(daemon, "lora/coding.rkllm", tag: "coding")
        return (daemon, models)
    }

    /// Sends a line of the document with its model directory, and reads to its answer.
    private func send(_ client: Client, _ line: String, models: String) throws -> JSONValue {
        try client.send(line.replacingOccurrences(of: "/models/", with: models + "/") + "\n")
        while true {
            let message = try client.readMessage()
            if message["error"] != nil || (message["result"] != nil && !Self.isStreamMessage(message["result"])) {
                return message
            }
        }
    }

    private static func isStreamMessage(_ result: JSONValue?) -> Bool {
        [0, 1].contains(result?["_callback_state"]) || result?[RKLLMTests.queuePosition] != nil
            || result?["_loading"] != nil
    }

    func testTheLanguageModelRequestsAsWritten() throws {
        let (daemon, models) = try daemon()
        let client = try Client(daemon.socket)
        let initialized = try send(
            client, #"{"jsonrpc":"2.0","id":1,"method":"rkllm.init","params":[{"model_path":"/models/qwen3.rkllm"}]}"#,
            models: models)
        XCTAssertNotNil(initialized["result"]?["handle"], initialized.jsonText)
        let run = try send(
            client,
            #"{"jsonrpc":"2.0","id":2,"method":"rkllm.run_async","params":[null,{"input_type":0,"prompt_input":"Hello"},{"mode":0},null]}"#,
            models: models)
        XCTAssertEqual(run["result"]?["_ended"], "finished", run.jsonText)
        let lora = try send(
            client,
            #"{"jsonrpc":"2.0","id":5,"method":"rkllm.load_lora","params":[{"lora_adapter_path":"/models/lora/coding.rkllm"}]}"#,
            models: models)
        XCTAssertEqual(lora["result"], .object([:]), lora.jsonText)
        // Named by its file (the adapter's name left out), at full scale (its scale left out).
        XCTAssertEqual(
            try client.stream(
                "rkllm.run", [RKLLMTests.prompt("hello world"), ["lora_params": ["lora_adapter_name": "coding"]]]
            )
            .text,
            "[coding x1.00] " + RKLLMTests.helloReply)
        daemon.assertStopsCleanly()
    }

    /// Ranges of the KV cache are cleared in a paused generation (the runtime's rule): a client
    /// pauses its run with `$/pauseRequest`, clears, and goes on with an empty prompt.
    func testAPausedGenerationHasItsCacheClearedByRangesAsWritten() throws {
        // Tokens 100 ms apart, replies of 8 tokens: a pause asked with the run lands long before its end.
        let (daemon, models) = try daemon(["RKLLM_SIM_TOKEN_US": "100000"])
        let client = try Client(daemon.socket)
        _ = try send(
            client,
            #"{"jsonrpc":"2.0","id":1,"method":"rkllm.init","params":[{"model_path":"/models/qwen3.rkllm","max_new_tokens":8}]}"#,
            models: models)
        let prompt = Array(repeating: "word", count: 60).joined(separator: " ")
        let run: JSONValue = [nil, ["input_type": 0, "prompt_input": .string(prompt)], ["mode": 0], nil]
        // The pause is asked right after the run: it takes effect at the run's next message.
        try client.send(
            JSONValue.object(["jsonrpc": "2.0", "id": 7, "method": "rkllm.run", "params": run]).jsonText + "\n"
                + #"{"jsonrpc":"2.0","id":8,"method":"$/pauseRequest","params":{"id":7}}"# + "\n")
        var (paused, pausing) = (StreamRead(), JSONValue?.none)
        while paused.final == .null || pausing == nil {
            let message = try client.readMessage()
            if message["id"] == 8 {
                pausing = message["result"]?["pausing"]
            } else if let result = message["result"], result["_ended"] == nil {
                paused.messages.append(result)
            } else {
                paused.final = message["result"] ?? message
            }
        }
        XCTAssertEqual(pausing, true)
        XCTAssertEqual(paused.final["_ended"], "paused", paused.final.jsonText)
        XCTAssertTrue((1..<8).contains(paused.messages.count), "paused before its end: \(paused.messages.count)")
        let size = try XCTUnwrap(try client.call("rkllm.get_kv_cache_size", [nil])["cache_sizes"]?[0]?.intValue)
        XCTAssertGreaterThanOrEqual(size, 100)

        let cleared = try send(
            client, #"{"jsonrpc":"2.0","id":6,"method":"rkllm.clear_kv_cache","params":[null,1,[0,50],[100,150]]}"#,
            models: models)
        XCTAssertEqual(cleared["result"], .object([:]), cleared.jsonText)
        XCTAssertEqual(
            try client.call("rkllm.get_kv_cache_size", [nil])["cache_sizes"], [.int(Int64(size - 100))],
            "positions [0, 100) of the first batch are gone")
        // An empty prompt goes on with the paused reply: together they are the reply a run without
        // a pause makes (longer only by what the cleared positions left room for).
        let rest = try client.stream("rkllm.run", [nil, ["input_type": 0, "prompt_input": ""], ["mode": 0], nil])
        XCTAssertEqual(rest.final["_ended"], "max_tokens", "the rest of the echo of 60 words is longer than 8 tokens")
        XCTAssertEqual(try client.call("rkllm.clear_kv_cache", [nil, 0, nil, nil]), .object([:]))
        let whole = try client.stream(
            "rkllm.run", [nil, ["input_type": 0, "prompt_input": .string(prompt)], ["mode": 0], nil])
        XCTAssertFalse(rest.text.isEmpty)
        XCTAssertTrue((paused.text + rest.text).hasPrefix(whole.text), "\(paused.text) + \(rest.text)")

        // A run whose call returns at once cannot pause (the host could not tell when it ended).
        try client.send(
            JSONValue.object([
                "jsonrpc": "2.0", "id": 9, "method": "rkllm.run_async", "params": run,
            ]).jsonText + "\n" + #"{"jsonrpc":"2.0","id":10,"method":"$/pauseRequest","params":{"id":9}}"# + "\n")
        var refused: JSONValue?
        var ended = false
        while refused == nil || !ended {
            let message = try client.readMessage()
            if message["id"] == 10 { refused = message["error"] ?? message }
            if message["id"] == 9, message["result"]?["_ended"] != nil { ended = true }
        }
        XCTAssertEqual(refused?["code"], .int(Int64(RPCError.Code.invalidParams)), refused?.jsonText ?? "")

        // A model other clients share: its paused state would be theirs too, so no pause.
        let (first, second) = (try Client(daemon.socket), try Client(daemon.socket))
        for client in [first, second] {
            _ = try client.call("rkllm.init", [["model_path": "demo", "max_new_tokens": 8]])
        }
        let hello: JSONValue = [nil, ["input_type": 0, "prompt_input": "hello"], ["mode": 0], nil]
        try first.send(
            JSONValue.object(["jsonrpc": "2.0", "id": 1, "method": "rkllm.run", "params": hello]).jsonText + "\n"
                + #"{"jsonrpc":"2.0","id":2,"method":"$/pauseRequest","params":{"id":1}}"# + "\n")
        var (shared, sharedEnd) = (JSONValue?.none, JSONValue?.none)
        while shared == nil || sharedEnd == nil {
            let message = try first.readMessage()
            if message["id"] == 2 { shared = message["error"] ?? message }
            if message["id"] == 1, let end = message["result"]?["_ended"] { sharedEnd = end }
        }
        XCTAssertEqual(shared?["code"], .int(Int64(RPCError.Code.handleBusy)), shared?.jsonText ?? "")
        XCTAssertEqual(sharedEnd, "max_tokens")
        daemon.assertStopsCleanly()
    }

    func testTheVisionModelRequestsAsWritten() throws {
        let (daemon, models) = try daemon()
        let client = try Client(daemon.socket)
        let initialized = try send(
            client,
            #"{"jsonrpc":"2.0","id":3,"method":"rknn.init","params":{"model_path":"/models/yolo.rknn","core_mask":1}}"#,
            models: models)
        let context = try XCTUnwrap(initialized["result"]?["context"], initialized.jsonText)
        // The core mask was set: the one the document asked for is in force (a mask the demo
        // board lacks would have failed the call).
        let image = Data(RKNNTests.frame).base64EncodedString()
        let run = try send(
            client, #"{"jsonrpc":"2.0","id":4,"method":"rknn.run","params":{"input_data":"\#(image)"}}"#,
            models: models)
        let outputs = try XCTUnwrap(run["result"]?["outputs"], run.jsonText)
        for (index, stride) in [8, 16, 32].enumerated() {
            XCTAssertEqual(outputs[index]?["index"], .int(Int64(index)))
            XCTAssertEqual(
                try base64Values(outputs[index]?["buf"], as: Float.self),
                RKNNTests.expected(stride: stride).map { (Float($0) + 128) * 0.0078125 }, "stride \(stride)")
        }
        // The same context by plain calls: the composite changed nothing the next call sees.
        XCTAssertEqual(try client.call("rknn.run", [context]), .object([:]))
        // A core mask no board has: the composite fails at that step, naming it, and the
        // context its first step made is destroyed again (the client holds one context still).
        let refused = try client.request(
            "rknn.init", ["model_path": .string(models + "/yolo.rknn"), "core_mask": 64])
        XCTAssertEqual(refused["error"]?["data"]?["step"], "rknn.set_core_mask", refused.jsonText)
        XCTAssertEqual(refused["error"]?["data"]?["name"], "RKNN_ERR_PARAM_INVALID")
        XCTAssertEqual(try client.call("server.stats")["runtimes"]?["rknn"]?["handles"], 1)
        XCTAssertEqual(
            try client.errorCode("rknn.init", ["model_path": "yolo", "model": ["path": "yolo"]]),
            RPCError.Code.invalidParams, "one parameter by two names")
        daemon.assertStopsCleanly()
    }
}
