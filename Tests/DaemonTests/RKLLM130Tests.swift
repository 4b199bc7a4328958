import BindingRuntime
import Foundation
import XCTest

/// What RKLLM 1.3.0 adds, through the daemon on the simulated 1.3.0 runtime: per-run limits and
/// sampling, `ignore_eos_token`, video input, and one model instance for clients whose parameters
/// differ only in what 1.3.0 lets each run give.
final class RKLLM130Tests: XCTestCase {
    private func daemon(_ library: String = "librkllmrt_sim-1.3.so") throws -> Daemon {
        try RKLLMTests.simulated(["RKLLM_RUNTIME_LIB": Built.path(library)])
    }

    private func open(_ client: Client, _ param: JSONObject) throws -> (handle: JSONValue, joined: Bool) {
        var param = param
        param["model_path"] = "demo.rkllm"
        let created = try client.call("rkllm.init", [.object(param)])
        return (try XCTUnwrap(created["handle"]), created["joined"] == true)
    }

    private let hello = RKLLMTests.prompt("hello world")

    func testEachRunMayGiveItsOwnLimitAndSampling() throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let (handle, _) = try open(client, [:])
        XCTAssertEqual(try client.stream("rkllm.run", [handle, hello]).text, RKLLMTests.helloReply)
        let limited = try client.stream("rkllm.run", [handle, hello, ["max_new_tokens": 2]])
        XCTAssertEqual(limited.final["perf"]?["generate_tokens"], 2)
        XCTAssertEqual(limited.final["_ended"], "max_tokens", "the run's own limit")
        let sampled = try client.stream(
            "rkllm.run", [handle, hello, ["sampling_params": ["top_k": 40, "top_p": 0.9, "temperature": 0.7]]])
        XCTAssertEqual(sampled.text, "[sampled top_k=40 T=0.70] " + RKLLMTests.helloReply)
        XCTAssertEqual(
            try client.stream("rkllm.run", [handle, hello]).text, RKLLMTests.helloReply,
            "the next run without them: the instance's own (greedy) sampling again")
    }

    func testIgnoringTheEndOfSequenceGoesOnToTheLimit() throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let (handle, _) = try open(client, ["ignore_eos_token": true, "max_new_tokens": 40])
        let run = try client.stream("rkllm.run", [handle, RKLLMTests.prompt("hi")])
        XCTAssertEqual(run.final["perf"]?["generate_tokens"], 40)
        XCTAssertTrue(run.text.hasPrefix("Hello from the demo model"), run.text)
    }

    func testVideosAreInput() throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let (handle, _) = try open(client, [:])
        let video: JSONObject = [
            "video_embed": .array(Array(repeating: 0.5, count: 4 * 32)), "n_video": 1, "n_frame_per_video": 2,
            "n_frame_tokens": 2, "frame_width": 32, "frame_height": 32,
        ]
        let run = try client.stream(
            "rkllm.run",
            [
                handle,
                [
                    "input_type": "RKLLM_INPUT_MULTIMODAL",
                    "multimodal_input": ["prompt": "<image>what is in the video", "video": .object(video)],
                ],
            ])
        XCTAssertEqual(
            run.text, "I see 2 image(s) of 32x32. Hello from the demo model, ça va? 你好: video the in is <image>what.")
    }

    func testClientsDifferingOnlyInPerRunParametersShareOneInstanceAndKeepTheirOwn() throws {
        let daemon = try daemon()
        defer { daemon.assertStopsCleanly() }
        let (alice, bob) = (try Client(daemon.socket), try Client(daemon.socket))
        let (a, aliceJoined) = try open(alice, ["top_k": 40, "temperature": 0.5, "max_new_tokens": 3])
        let (b, bobJoined) = try open(bob, [:])
        XCTAssertFalse(aliceJoined)
        XCTAssertTrue(bobJoined, "sampling and the limit are per run in 1.3.0: one instance serves both")
        XCTAssertEqual(try alice.call("server.stats")["runtimes"]?["rkllm"]?["objects"], 1)
        // Each client's runs get its own values: Alice's sampling and limit, Bob's defaults.
        let alices = try alice.stream("rkllm.run", [a, hello])
        XCTAssertEqual(alices.final["perf"]?["generate_tokens"], 3)
        XCTAssertEqual(alices.final["_ended"], "max_tokens", "the limit Alice's init gave")
        XCTAssertTrue(("[sampled top_k=40 T=0.50] " + RKLLMTests.helloReply).hasPrefix(alices.text), alices.text)
        XCTAssertTrue(alices.text.hasPrefix("[s"), alices.text)
        XCTAssertEqual(try bob.stream("rkllm.run", [b, hello]).text, RKLLMTests.helloReply)
        // A run that gives its own wins over the client's.
        XCTAssertEqual(
            try alice.stream("rkllm.run", [a, hello, ["sampling_params": ["top_k": 1], "max_new_tokens": 100]]).text,
            RKLLMTests.helloReply)
        // What 1.3.0 keeps per instance still separates: ignore_eos_token.
        let (_, carolJoined) = try open(try Client(daemon.socket), ["ignore_eos_token": true])
        XCTAssertFalse(carolJoined)
    }

    func testOn123SamplingIsPerInstanceSoTheyDoNotShare() throws {
        let daemon = try daemon("librkllmrt_sim.so")
        defer { daemon.assertStopsCleanly() }
        let (alice, bob) = (try Client(daemon.socket), try Client(daemon.socket))
        let (a, _) = try open(alice, ["top_k": 40, "temperature": 0.5])
        XCTAssertFalse(try open(bob, [:]).joined)
        XCTAssertTrue(try alice.stream("rkllm.run", [a, hello]).text.hasPrefix("[sampled top_k=40 T=0.50] "))
    }
}
