import BindingRuntime
import Foundation
import XCTest

/// Models by name: `server.models` lists what clients can name and what is loaded, and a model is
/// named without its extension (`demo`: `demo.rkllm` for RKLLM, `demo.rknn` for RKNN).
final class ModelsTests: XCTestCase {
    func testModelsAreListedAndNamedWithoutTheirExtension() throws {
        let daemon = try RKLLMTests.simulated(["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let listed = try client.call("server.models")
        guard case .array(let files)? = listed["files"] else { return XCTFail("no files: \(listed)") }
        let demo = try XCTUnwrap(files.first { $0["name"] == "demo" && $0["runtime"] == "rkllm" })
        XCTAssertEqual(demo["path"], .string(Built.models + "/demo.rkllm"))
        XCTAssertEqual(demo["kind"], "model")
        let size = try XCTUnwrap(
            FileManager.default.attributesOfItem(atPath: Built.models + "/demo.rkllm")[.size] as? NSNumber)
        XCTAssertEqual(demo["size"], .int(size.int64Value))
        XCTAssertNotNil(files.first { $0["name"] == "demo" && $0["runtime"] == "rknn" }, "\(files)")
        XCTAssertEqual(listed["loaded"], [])

        // By name: the runtime's extension is filled in.
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        XCTAssertEqual(
            try client.stream("rkllm.run", [handle, RKLLMTests.prompt("hello world")]).text, RKLLMTests.helloReply)
        // rknn.init's flag may be left out (0); its model may not.
        let context = try XCTUnwrap(try client.call("rknn.init", ["model": ["path": "demo"]])["context"])
        XCTAssertEqual(try client.errorCode("rknn.init", ["flag": 0]), RPCError.Code.invalidParams)
        guard case .array(let methods)? = try client.call("rpc.discover")["methods"],
            case .array(let params)? = methods.first(where: { $0["name"] == "rknn.init" })?["params"]
        else { return XCTFail("no rknn.init in rpc.discover") }
        XCTAssertEqual(
            params.map { $0["required"] }, [true, false, false, false], "model, flag, extend; core_mask (by name)")
        XCTAssertEqual(
            try client.call("rknn.query", [context, "RKNN_QUERY_IN_OUT_NUM"])["info"]?["n_input"], 1,
            "demo.rknn, the detector")
        XCTAssertEqual(
            try client.errorCode("rkllm.init", [["model_path": "nothing-by-this-name"]]), RPCError.Code.runtimeError,
            "no such model: the runtime's missing file")

        // What is loaded: the instance with its creating call, ABI, process and users.
        guard case .array(let loaded)? = try client.call("server.models")["loaded"] else { return XCTFail() }
        let instance = try XCTUnwrap(loaded.first { $0["runtime"] == "rkllm" }, "\(loaded)")
        XCTAssertEqual(instance["params"]?["param"]?["model_path"], .string(Built.models + "/demo.rkllm"))
        XCTAssertEqual(instance["abi"], TestABI.version)
        XCTAssertEqual(instance["users"], 1)
        XCTAssertEqual(instance["shared"], true)
        XCTAssertEqual(instance["queued"], 0)
        guard case .int(let pid)? = instance["pid"] else { return XCTFail("\(instance)") }
        XCTAssertEqual(kill(pid_t(pid), 0), 0, "its runtime host is running")
        XCTAssertNotNil(loaded.first { $0["runtime"] == "rknn" && $0["type"] == "rknn_context" }, "\(loaded)")
        // Another client sees the shared model instance, not this client's own context.
        guard case .array(let seen)? = try Client(daemon.socket).call("server.models")["loaded"] else {
            return XCTFail()
        }
        XCTAssertEqual(seen.map { $0["runtime"] }, ["rkllm"], "\(seen)")
    }

    func testOneFileNamedThreeWaysIsOneModel() throws {
        let daemon = try RKLLMTests.simulated()
        defer { daemon.assertStopsCleanly() }
        let clients = try (0..<3).map { _ in try Client(daemon.socket) }
        for (client, name) in zip(clients, ["demo", "demo.rkllm", Built.models + "/demo.rkllm"]) {
            XCTAssertNotNil(try client.call("rkllm.init", [["model_path": .string(name)]])["handle"], name)
        }
        guard case .array(let loaded)? = try clients[0].call("server.models")["loaded"] else { return XCTFail() }
        XCTAssertEqual(loaded.count, 1, "\(loaded)")
        XCTAssertEqual(loaded.first?["users"], 3)
        // A name no directory has stays as given, and the runtime's error says so, with what the
        // call was given (the header names no codes: the meaning is the simulated runtime's).
        let absent = try clients[0].request("rkllm.init", [["model_path": "absent", "max_context_len": 4096]])["error"]
        XCTAssertEqual(absent?["code"], .int(Int64(RPCError.Code.runtimeError)))
        XCTAssertEqual(absent?["data"]?["meaning"], "the model file is missing")
        XCTAssertTrue(
            absent?["data"]?["arguments"]?["param"]?["model_path"]?.stringValue?.hasSuffix("/absent") == true,
            absent?.jsonText ?? "")
        XCTAssertEqual(absent?["data"]?["arguments"]?["param"]?["max_context_len"], 4096)
    }

    func testAModelNoOneHoldsSaysWhenItUnloads() throws {
        let daemon = try RKLLMTests.simulated(["RKLLM_KEEP_ALIVE": "30"])
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        let held = try XCTUnwrap(try client.call("server.models")["loaded"]?[0])
        XCTAssertNil(held["unloads_in_s"], "held: not unloading")
        XCTAssertEqual(try client.call("rkllm.destroy", [handle]), .object([:]))
        let kept = try XCTUnwrap(try client.call("server.models")["loaded"]?[0])
        XCTAssertEqual(kept["users"], 0)
        let left = try XCTUnwrap(kept["unloads_in_s"]?.doubleValue)
        XCTAssertTrue(left > 0 && left <= 30, "\(kept)")
        XCTAssertNotNil(kept["idle_s"])
        _ = try client.call("rkllm.init", [["model_path": "demo"]])
        XCTAssertNil(try client.call("server.models")["loaded"]?[0]?["unloads_in_s"], "joined again: kept")
    }

    func testAClientSaysHowLongItsModelStaysLoaded() throws {
        let daemon = try RKLLMTests.simulated(["RKLLM_KEEP_ALIVE": "0"])
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        XCTAssertEqual(try client.call("server.keep_alive", ["handle": handle, "seconds": 60]), ["keep_alive_s": 60.0])
        XCTAssertEqual(try client.call("rkllm.destroy", [handle]), .object([:]))
        let kept = try XCTUnwrap(try client.call("server.models")["loaded"]?[0])
        let left = try XCTUnwrap(kept["unloads_in_s"]?.doubleValue)
        XCTAssertTrue(left > 50 && left <= 60, "\(kept)")
        // Joined again and told 0: unloaded as soon as it is let go.
        let again = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        _ = try client.call("server.keep_alive", [again, 0])
        _ = try client.call("rkllm.destroy", [again])
        XCTAssertEqual(try client.call("server.models")["loaded"], [])
        // Only a handle of the caller's own.
        XCTAssertEqual(
            try client.errorCode("server.keep_alive", ["handle": 999, "seconds": 1]), RPCError.Code.invalidParams)
    }
}
