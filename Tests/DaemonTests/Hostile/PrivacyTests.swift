import BindingRuntime
import Foundation
import XCTest

/// No client reads or changes what another client's generation sees (SPEC §9): a shared model
/// instance whose conversation or settings a client changes becomes that client's own.
final class PrivacyTests: XCTestCase {
    private let demo: JSONValue = [["model_path": "demo.rkllm"]]
    private let history: JSONValue = ["keep_history": 1]

    func testAConversationLeftBehindIsNotJoinedByTheNextClient() throws {
        let daemon = try RKLLMTests.simulated(["RKLLM_KEEP_ALIVE": "300"])
        let first = try Client(daemon.socket)
        let theirs = try XCTUnwrap(try first.call("rkllm.init", demo)["handle"])
        _ = try first.stream("rkllm.run", [theirs, RKLLMTests.prompt("hello"), history])
        XCTAssertEqual(
            try first.stream("rkllm.run", [theirs, RKLLMTests.prompt("hello world"), history]).text,
            "Hello from the demo model, ça va? 你好 (turn 2): world hello.")
        first.hangUp()
        let next = try Client(daemon.socket)
        let made = try next.call("rkllm.init", demo)
        XCTAssertNil(made["joined"], "an instance holding a conversation is no one else's")
        let mine = try XCTUnwrap(made["handle"])
        XCTAssertEqual(
            try next.stream("rkllm.run", [mine, RKLLMTests.prompt("hello world"), history]).text, RKLLMTests.helloReply,
            "no turn 3: a conversation of its own")
        // An instance nobody changed is still shared, and kept alive for the next client.
        let clean = try Client(daemon.socket)
        let cleanHandle = try XCTUnwrap(
            try clean.call("rkllm.init", [["model_path": "demo.rkllm", "max_new_tokens": 64]])["handle"])
        XCTAssertEqual(
            try clean.stream("rkllm.run", [cleanHandle, RKLLMTests.prompt("hello world")]).text, RKLLMTests.helloReply)
        clean.hangUp()
        XCTAssertEqual(
            try next.call("rkllm.init", [["model_path": "demo.rkllm", "max_new_tokens": 64]])["joined"], true)
        daemon.assertStopsCleanly()
    }

    func testAChangeToASharedInstanceGivesItsClientOneOfItsOwn() throws {
        let daemon = try RKLLMTests.simulated(["RKLLM_KEEP_ALIVE": "300"])
        let a = try Client(daemon.socket)
        let b = try Client(daemon.socket)
        let handleA = try XCTUnwrap(try a.call("rkllm.init", demo)["handle"])
        let joined = try b.call("rkllm.init", demo)
        XCTAssertEqual(joined["joined"], true)
        let handleB = try XCTUnwrap(joined["handle"])
        XCTAssertEqual(try hosts(daemon), 1)
        // B's tools: B gets an instance of its own (same handle), A's instance has none.
        XCTAssertEqual(
            try b.call("rkllm.set_function_tools", [handleB, "", #"[{"name": "get_weather"}]"#, "<tool_response>"]),
            .object([:]))
        XCTAssertEqual(try hosts(daemon), 2)
        let ask = RKLLMTests.prompt("get_weather now")
        XCTAssertEqual(
            try b.stream("rkllm.run", [handleB, ask]).text,
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>")
        XCTAssertEqual(
            try a.stream("rkllm.run", [handleA, ask]).text, "Hello from the demo model, ça va? 你好: now get_weather.")
        // A, alone on the first instance now, keeps a conversation there; B's clearing its own
        // cache does not touch it.
        _ = try a.stream("rkllm.run", [handleA, RKLLMTests.prompt("hello"), history])
        XCTAssertEqual(try b.call("rkllm.clear_kv_cache", [handleB, 0, nil, nil]), .object([:]))
        XCTAssertEqual(
            try a.stream("rkllm.run", [handleA, RKLLMTests.prompt("hello world"), history]).text,
            "Hello from the demo model, ça va? 你好 (turn 2): world hello.")
        XCTAssertNotEqual(try a.call("rkllm.get_kv_cache_size", [handleA])["cache_sizes"], [0])
        // Neither instance can be joined any more: a third client gets a fresh one.
        let c = try Client(daemon.socket)
        XCTAssertNil(try c.call("rkllm.init", demo)["joined"])
        XCTAssertEqual(try hosts(daemon), 3)
        // A client that lets go of its own instance does not leave it for others.
        XCTAssertEqual(try b.call("rkllm.destroy", [handleB]), .object([:]))
        XCTAssertEqual(try waitForHosts(daemon, 2), 2, "destroyed at once, not kept alive")
        daemon.assertStopsCleanly()
    }

    private func hosts(_ daemon: Daemon) throws -> Int {
        guard case .int(let n)? = try Client(daemon.socket).call("server.stats")["runtimes"]?["rkllm"]?["hosts_running"]
        else { return -1 }
        return Int(n)
    }

    private func waitForHosts(_ daemon: Daemon, _ expected: Int) throws -> Int {
        let deadline = Date().addingTimeInterval(60)
        while try hosts(daemon) != expected && Date() < deadline { usleep(10_000) }
        return try hosts(daemon)
    }
}
