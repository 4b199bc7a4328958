import BindingRuntime
import Foundation
import XCTest

/// The requests the seed's design document shows, sent as written (its `/models/` is this
/// daemon's model directory, holding the demo models under the document's names).
final class SeedRequestsTests: XCTestCase {
    private func daemon() throws -> (Daemon, String) {
        let daemon = try RKLLMTests.simulated(["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
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
