import BindingRuntime
import Foundation
import XCTest

/// rkllm.* end to end: the real daemon, its runtime host processes, the simulated runtime
/// (librkllmrt_sim.so, docs/SIMULATED_RUNTIMES.md) and models/demo.rkllm.
final class RKLLMTests: XCTestCase {
    /// The demo model's reply to "hello world" (its greeting, then the words last first).
    static let helloReply = "Hello from the demo model, ça va? 你好: world hello."

    static func simulated(_ extra: [String: String] = [:], arguments: [String] = []) throws -> Daemon {
        var environment = [
            "RKLLM_RUNTIME_LIB": Built.simulatedRuntime, "RKLLM_SIM_TOKEN_US": "0",
            "RKLLM_SIM_PREFILL_US": "0", "RKLLM_SIM_LOAD_MS": "0",
        ]
        environment.merge(extra) { $1 }
        return try Daemon(arguments: arguments, environment: environment)
    }

    static func prompt(_ text: String, _ extra: JSONObject = [:]) -> JSONValue {
        var input: JSONObject = ["role": "user", "input_type": "RKLLM_INPUT_PROMPT", "prompt_input": .string(text)]
        for (k, v) in extra.pairs { input[k] = v }
        return .object(input)
    }

    func testEveryMethodInBothParameterForms() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        XCTAssertEqual(try client.call("rkllm.get_constants")["RKLLM_RUN_WAITING"], 1)
        XCTAssertEqual(try client.call("rkllm.createDefaultParam", [])["return"]?["max_context_len"], 1024)
        XCTAssertEqual(
            try client.call("rkllm.createDefaultParam", .object([:]))["return"]?["extend_param"]?["n_batch"], 1)
        let a = try XCTUnwrap(try client.call("rkllm.init", ["param": ["model_path": "demo.rkllm"]])["handle"])
        let b = try XCTUnwrap(
            try client.call(
                "rkllm.init",
                [
                    [
                        "model_path": "demo.rkllm", "max_context_len": 512,
                        "extend_param": ["use_cross_attn": 1],
                    ]
                ])["handle"])
        XCTAssertNotEqual(a, b, "different parameters: two instances")
        for (handle, form) in [(a, "named"), (b, "positional")] {
            let named = form == "named"
            func params(_ names: [String], _ values: [JSONValue]) -> JSONValue {
                named ? .object(JSONObject(uniqueKeysLastWins: Array(zip(names, values)))) : .array(values)
            }
            let run = try client.stream(
                "rkllm.run", params(["handle", "rkllm_input"], [handle, Self.prompt("hello world")]))
            XCTAssertEqual(run.text, Self.helloReply, form)
            let async = try client.stream(
                "rkllm.run_async",
                params(
                    ["handle", "rkllm_input", "rkllm_infer_params"],
                    [handle, Self.prompt("hello world"), ["keep_history": 1]]))
            XCTAssertEqual(async.text, Self.helloReply, form)
            XCTAssertEqual(
                try client.call("rkllm.is_running", params(["handle"], [handle])), TestABI.idle, "not running")
            XCTAssertEqual(try client.call("rkllm.abort", params(["handle"], [handle])), .object([:]))
            let size = try client.call("rkllm.get_kv_cache_size", params(["handle"], [handle]))["cache_sizes"]
            guard case .array(let sizes)? = size, case .int(let used)? = sizes.first else {
                return XCTFail("\(String(describing: size))")
            }
            XCTAssertGreaterThan(used, 40, "keep_history kept the async run's conversation")
            XCTAssertEqual(
                try client.call("rkllm.clear_kv_cache", params(["handle", "keep_system_prompt"], [handle, 0])),
                .object([:]))
            XCTAssertEqual(
                try client.call("rkllm.get_kv_cache_size", params(["handle", "n_batch"], [handle, 1]))["cache_sizes"],
                [0])
            XCTAssertEqual(
                try client.call(
                    "rkllm.set_chat_template",
                    params(
                        ["handle", "system_prompt", "prompt_prefix", "prompt_postfix"],
                        [handle, "Be brief.", "U: ", "\nA: "])), .object([:]))
            XCTAssertEqual(
                try client.call(
                    "rkllm.set_function_tools",
                    params(
                        ["handle", "system_prompt", "tools_json", "tool_response_str"],
                        [handle, "", #"[{"name": "get_time"}]"#, "tool_response"])), .object([:]))
            try Models.lora(daemon, "style.lora", tag: "pirate")
            XCTAssertEqual(
                try client.call(
                    "rkllm.load_lora",
                    params(
                        ["handle", "lora_adapter"],
                        [handle, ["lora_adapter_path": "style.lora", "lora_adapter_name": "style", "scale": 1]])),
                .object([:]))
            let saved = try client.stream(
                "rkllm.run",
                params(
                    ["handle", "rkllm_input", "rkllm_infer_params"],
                    [
                        handle, Self.prompt("hello"),
                        [
                            "prompt_cache_params": [
                                "save_prompt_cache": 1, "prompt_cache_path": .string("\(form).cache"),
                            ]
                        ],
                    ]))
            XCTAssertEqual(saved.final["_callback_state"], 2)
            XCTAssertEqual(
                try client.call(
                    "rkllm.load_prompt_cache",
                    params(["handle", "prompt_cache_path"], [handle, .string("\(form).cache")])), .object([:]))
            XCTAssertEqual(try client.call("rkllm.release_prompt_cache", params(["handle"], [handle])), .object([:]))
        }
        // Cross-attention: only for an instance made with use_cross_attn (b), and with every array.
        let encoder: JSONObject = [
            "encoder_k_cache": [0.5, 0.25], "encoder_v_cache": [0.5, 0.25], "encoder_mask": [1, 1],
            "encoder_pos": [0, 1], "num_tokens": 2,
        ]
        XCTAssertEqual(try client.call("rkllm.set_cross_attn_params", [b, .object(encoder)]), .object([:]))
        XCTAssertEqual(
            try client.call("rkllm.set_cross_attn_params", ["handle": b, "cross_attn_params": .object(encoder)]),
            .object([:]))
        let refused = try client.request("rkllm.set_cross_attn_params", [a, .object(encoder)])
        XCTAssertEqual(refused["error"]?["data"]?["code"], -6, "no use_cross_attn at init")
        XCTAssertEqual(try client.call("rkllm.destroy", [a]), .object([:]))
        XCTAssertEqual(try client.call("rkllm.destroy", ["handle": b]), .object([:]))
        XCTAssertEqual(try client.errorCode("rkllm.is_running", [a]), RPCError.Code.unknownHandle)
        daemon.assertStopsCleanly()
    }

    func testTheSimulatedRuntimeStandsInWhenTheVendorsIsNotInstalled() throws {
        let daemon = try Daemon(environment: ["RKLLM_RUNTIME_LIB": ""])
        let client = try Client(daemon.socket)
        guard case .array(let runtimes)? = try client.call("server.info")["runtimes"] else { return XCTFail() }
        XCTAssertEqual(runtimes[0]["library"], .string(Built.path("librkllmrt_sim-1.3.so")), "the newest ABI's")
        XCTAssertEqual(runtimes[0]["instead_of"], "librkllmrt.so")
        XCTAssertEqual(runtimes[0]["available"], true)
        XCTAssertTrue(daemon.log.contains("simulated runtime: librkllmrt.so is not installed"), daemon.log)
        daemon.assertStopsCleanly()
    }

    func testLoadsRunOneAtATimeAndAWaitingOneIsToldItsPlace() throws {
        let daemon = try Self.simulated(["RKLLM_SIM_LOAD_MS": "2000"])
        defer { daemon.assertStopsCleanly() }
        let (first, second, watcher) = (try Client(daemon.socket), try Client(daemon.socket), try Client(daemon.socket))
        let started = Date()
        try first.start(1, "rkllm.init", [["model_path": "demo.rkllm"]])
        var inFlight: JSONValue?
        repeat {
            inFlight = try watcher.call("server.stats")["runtimes"]?["rkllm"]?["calls_in_flight"]
        } while inFlight != 1 && Date().timeIntervalSince(started) < 1.8
        XCTAssertEqual(inFlight, 1, "the first load runs")
        // Another model instance (its own parameters): its load waits for the first's, and says so.
        try second.start(1, "rkllm.init", [["model_path": "demo.rkllm", "max_context_len": 3000]])
        XCTAssertEqual(try second.readMessage()["result"]?["_loading"]?["behind"], 1)
        XCTAssertNotNil(try first.answer(after: "_loading").answer["result"]?["handle"])
        let (answer, progress) = try second.answer(after: "_loading")
        XCTAssertNotNil(answer["result"]?["handle"], "\(answer)")
        XCTAssertTrue(progress.allSatisfy { $0["joining"] == nil }, "\(progress)")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 4, "two loads of 2 s, one after the other")
    }

    func testOthersAreServedWhileAModelLoadsAndEqualLoadsAreJoined() throws {
        let daemon = try Self.simulated(["RKLLM_SIM_LOAD_MS": "3000"])
        let first = try Client(daemon.socket)
        let second = try Client(daemon.socket)
        let other = try Client(daemon.socket)
        try first.start(1, "rkllm.init", [["model_path": "demo.rkllm"]])
        try second.start(1, "rkllm.init", ["param": ["model_path": "demo.rkllm"]])
        let asked = Date()
        XCTAssertEqual(try other.call("server.ping"), "pong")
        // The load starts once its model's path is resolved (off the loop): answered meanwhile.
        var inFlight: JSONValue?
        repeat {
            inFlight = try other.call("server.stats")["runtimes"]?["rkllm"]?["calls_in_flight"]
        } while inFlight != 1 && Date().timeIntervalSince(asked) < 2.5
        XCTAssertEqual(inFlight, 1, "answered while the load (3 s) is under way")
        // Told every second that the model is loading (the first time after one), then answered.
        for (client, joining) in [(first, false), (second, true)] {
            let (answer, progress) = try client.answer(after: "_loading")
            XCTAssertFalse(progress.isEmpty, "told it is loading before the answer")
            XCTAssertTrue(progress.allSatisfy { $0["joining"] == (joining ? true : nil) }, "\(progress)")
            guard case .double(let elapsed)? = progress.first?["elapsed_s"] else { return XCTFail("\(progress)") }
            XCTAssertGreaterThanOrEqual(elapsed, 1)
            XCTAssertNotNil(answer["result"]?["handle"], "\(answer)")
            XCTAssertEqual(answer["result"]?["joined"], joining ? true : nil, "the second joined the load in progress")
        }
        XCTAssertGreaterThan(Date().timeIntervalSince(asked), 2.9, "the load took its simulated time")
        let runtime = try other.call("server.stats")["runtimes"]?["rkllm"]
        XCTAssertEqual(runtime?["hosts_started"], 1, "one load for both")
        XCTAssertEqual(runtime?["handles"], 2)
        daemon.assertStopsCleanly()
    }

    func testStreamedTextIsExactValidUTF8AndEndsWithPerf() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let handle = try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"]!
        let run = try client.stream("rkllm.run", [handle, Self.prompt("hello world"), .null, ["request": 7]])
        XCTAssertEqual(run.text, Self.helloReply)
        let states = run.messages.map { $0["_callback_state"] ?? .null }
        XCTAssertEqual(
            states.filter { $0 == 1 }.count, 5,
            "ç (2 bytes) and 你好 (3 each) were split across tokens: 1 + 2 + 2 waiting")
        XCTAssertTrue(
            run.messages.filter { $0["_callback_state"] == 1 }.allSatisfy { ($0["text"] ?? "") == "" },
            "WAITING shows nothing")
        XCTAssertTrue(run.messages.allSatisfy { $0["userdata"] == ["request": 7] })
        XCTAssertEqual(run.final["_callback_state"], 2)
        XCTAssertNil(run.final["text"], "the finish carries no text")
        XCTAssertEqual(run.final["perf"]?["generate_tokens"], .int(Int64(run.messages.count)))
        XCTAssertEqual(run.final["perf"]?["prefill_tokens"], 49, "system prompt (24 tokens), template and prompt (25)")
        XCTAssertEqual(run.final["_ended"], "finished")
        // max_new_tokens cuts the reply, and its end says so.
        let short = try client.call("rkllm.init", [["model_path": "demo.rkllm", "max_new_tokens": 3]])["handle"]!
        let cut = try client.stream("rkllm.run", [short, Self.prompt("hello world")])
        XCTAssertEqual(cut.text, "Hello from the")
        XCTAssertEqual(cut.final["_ended"], "max_tokens")
        daemon.assertStopsCleanly()
    }

    func testConversationHistoryModesAndInputs() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let handle = try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"]!
        let history: JSONValue = ["keep_history": 1]
        _ = try client.stream("rkllm.run", [handle, Self.prompt("hello"), history])
        let second = try client.stream("rkllm.run", [handle, Self.prompt("hello world"), history])
        XCTAssertEqual(second.text, "Hello from the demo model, ça va? 你好 (turn 2): world hello.")
        XCTAssertEqual(
            second.final["perf"]?["prefill_tokens"], 25, "the system prompt (24 tokens) is already in the cache")
        XCTAssertEqual(try client.call("rkllm.clear_kv_cache", [handle, 1, nil, nil]), .object([:]))
        XCTAssertEqual(
            try client.call("rkllm.get_kv_cache_size", [handle])["cache_sizes"], [24],
            "the system prompt's tokens are kept")
        XCTAssertEqual(
            try client.stream("rkllm.run", [handle, Self.prompt("hello world"), history]).text, Self.helloReply)

        let thinking = try client.stream("rkllm.run", [handle, Self.prompt("hello world", ["enable_thinking": true])])
        XCTAssertEqual(thinking.text, "<think>\nThe message has 2 words.\n</think>\n\n" + Self.helloReply)
        _ = try client.call(
            "rkllm.set_function_tools",
            [handle, "", #"[{"type": "function", "function": {"name": "get_weather"}}]"#, "<tool_response>"])
        XCTAssertEqual(
            try client.stream("rkllm.run", [handle, Self.prompt("what is the get_weather in Paris")]).text,
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>")
        XCTAssertEqual(
            try client.stream("rkllm.run", [handle, Self.prompt("sunny", ["role": "tool"])]).text,
            "Tool result received: sunny.")
        try Models.lora(daemon, "pirate.lora", tag: "pirate")
        // The handle left out of the array, as the caller has one (the seed's documented form).
        _ = try client.call(
            "rkllm.load_lora", [["lora_adapter_path": "pirate.lora", "lora_adapter_name": "p", "scale": 0.5]])
        XCTAssertEqual(
            try client.stream("rkllm.run", [Self.prompt("hello world"), ["lora_params": ["lora_adapter_name": "p"]]])
                .text,
            "[pirate x0.50] " + Self.helloReply)
        let unknownLora = try client.stream(
            "rkllm.run", [handle, Self.prompt("x"), ["lora_params": ["lora_adapter_name": "nope"]]])
        XCTAssertEqual(unknownLora.final["_callback_state"], 3, "an adapter never loaded: the runtime's error")
        XCTAssertEqual(unknownLora.final["code"], -1)

        // Hidden states and logits: base64 little-endian float32 with their shapes.
        let hidden = try client.stream(
            "rkllm.run", [handle, Self.prompt("hello"), ["mode": "RKLLM_INFER_GET_LAST_HIDDEN_LAYER"]])
        let layer = try XCTUnwrap(hidden.messages.first?["last_hidden_layer"])
        XCTAssertEqual(layer["embd_size"], 32)
        let states = try Self.floats(layer["hidden_states"])
        XCTAssertEqual(states.count, 32 * Int(try XCTUnwrap(layer["num_tokens"]?.intValue)))
        XCTAssertEqual(
            states[1], 0.859, accuracy: 1e-6, "first token 'Y' (byte token 92), element 1: (92*31 + 1*7) % 1000 / 1000")
        // The daemon copies the states into the message, then lets the runtime release them (1.3.0's
        // callback answer 2): the finish's memory is the model's and the KV cache's alone.
        let perf = hidden.final["perf"]
        let prefilled = Double(try XCTUnwrap(perf?["prefill_tokens"]?.intValue))
        XCTAssertEqual(try XCTUnwrap(perf?["memory_usage_mb"]?.doubleValue), 512 + prefilled / 64, accuracy: 1e-4)
        let logits = try client.stream("rkllm.run", [handle, Self.prompt("hello"), ["mode": 2]])
        let values = try Self.floats(logits.messages.first?["logits"]?["logits"])
        XCTAssertEqual(logits.messages.first?["logits"]?["vocab_size"], .int(Int64(values.count)))
        XCTAssertEqual(values.filter { $0 == 1 }.count, 1, "one next token")
        XCTAssertEqual(values.firstIndex(of: 1), 259, "the reply's first token: the word 'Hello'")

        // Tokens, embeddings and images as input.
        let ids = second.messages.compactMap(\.["token_id"]).prefix(5)
        XCTAssertEqual(
            try client.stream(
                "rkllm.run",
                [
                    handle,
                    [
                        "input_type": "RKLLM_INPUT_TOKEN",
                        "token_input": ["input_ids": .array(Array(ids)), "n_tokens": 5],
                    ],
                ]
            ).text,
            "Hello from the demo model, ça va? 你好: model demo the from Hello.")
        XCTAssertEqual(
            try client.stream(
                "rkllm.run",
                [
                    handle,
                    [
                        "input_type": "RKLLM_INPUT_EMBED",
                        "embed_input": ["embed": .array(Array(repeating: 0.5, count: 96)), "n_tokens": 3],
                    ],
                ]
            ).text,
            "Hello from the demo model, ça va? 你好: I read 3 embedded tokens.")
        XCTAssertEqual(
            try client.stream(
                "rkllm.run",
                [
                    handle,
                    [
                        "input_type": "RKLLM_INPUT_MULTIMODAL",
                        "multimodal_input": TestABI.images(
                            prompt: "<image>what is it", embed: .array(Array(repeating: 0.25, count: 64)), tokens: 2,
                            count: 1, size: 448),
                    ],
                ]
            ).text,
            "I see 1 image(s) of 448x448. Hello from the demo model, ça va? 你好: it is <image>what.")
        daemon.assertStopsCleanly()
    }

    static func floats(_ value: JSONValue?) throws -> [Float] { try base64Values(value, as: Float.self) }

    func testPromptCachesAreSavedLoadedAndReleasedInTheCacheDirectory() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let handle = try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"]!
        let save: JSONValue = ["prompt_cache_params": ["save_prompt_cache": 1, "prompt_cache_path": "greeting.cache"]]
        let first = try client.stream("rkllm.run", [handle, Self.prompt("hello world"), save])
        XCTAssertTrue(FileManager.default.fileExists(atPath: daemon.directory + "/cache/greeting.cache"))
        XCTAssertEqual(first.final["perf"]?["prefill_tokens"], 49)
        _ = try client.call("rkllm.load_prompt_cache", [handle, "greeting.cache"])
        let cached = try client.stream("rkllm.run", [handle, Self.prompt("hello world")])
        XCTAssertEqual(cached.final["perf"]?["prefill_tokens"], 0, "the whole prompt came from the cache")
        _ = try client.call("rkllm.release_prompt_cache", [handle])
        XCTAssertEqual(
            try client.stream("rkllm.run", [handle, Self.prompt("hello world")]).final["perf"]?["prefill_tokens"], 49)
        // RKLLM's header names no code: what the simulated runtime documents is said, and whose word it is.
        let absent = try XCTUnwrap(try client.request("rkllm.load_prompt_cache", [handle, "absent.cache"])["error"])
        XCTAssertEqual(absent["data"]?["code"], -8)
        XCTAssertEqual(absent["data"]?["meaning"], "a file could not be read or written")
        XCTAssertNil(absent["data"]?["name"])
        guard case .string(let source)? = absent["data"]?["meaning_source"] else { return XCTFail("\(absent)") }
        XCTAssertTrue(source.contains("simulated runtime"), source)
        for outside in ["/tmp/x.cache", "../x.cache"] {
            XCTAssertEqual(
                try client.errorCode("rkllm.load_prompt_cache", [handle, .string(outside)]), RPCError.Code.notPermitted,
                outside)
        }
        let escape = try client.stream(
            "rkllm.run",
            [
                handle, Self.prompt("x"),
                ["prompt_cache_params": ["save_prompt_cache": 1, "prompt_cache_path": "/etc/evil.cache"]],
            ])
        XCTAssertEqual(escape.error?["code"], .int(Int64(RPCError.Code.notPermitted)))
        // A dangling link in the cache directory leads where a new file would land: outside, refused.
        let outsideTarget = NSTemporaryDirectory() + "rkllm-test-\(getpid())-outside.cache"
        try FileManager.default.createSymbolicLink(
            atPath: daemon.directory + "/cache/dangling.cache", withDestinationPath: outsideTarget)
        let dangling = try client.stream(
            "rkllm.run",
            [
                handle, Self.prompt("x"),
                ["prompt_cache_params": ["save_prompt_cache": 1, "prompt_cache_path": "dangling.cache"]],
            ])
        XCTAssertEqual(
            dangling.error?["code"], .int(Int64(RPCError.Code.notPermitted)), "a dangling link out of the directory")
        XCTAssertFalse(FileManager.default.fileExists(atPath: outsideTarget), "nothing written through it")
        try FileManager.default.createSymbolicLink(
            atPath: daemon.directory + "/cache/loop.cache", withDestinationPath: "loop.cache")
        XCTAssertEqual(
            try client.errorCode("rkllm.load_prompt_cache", [handle, "loop.cache"]), RPCError.Code.notPermitted,
            "a link to itself")
        daemon.assertStopsCleanly()
    }

    func testModelPathsAreConfinedAndBadModelsFailCleanly() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        // Parameters of the wrong JSON type: the same -32602 as any other call, naming the parameter.
        for params: JSONValue in [["param": 5], ["param": "demo.rkllm"], [[1]], ["param": ["extend_param": 3]]] {
            let refused = try client.request("rkllm.init", params)
            XCTAssertEqual(refused["error"]?["code"], .int(Int64(RPCError.Code.invalidParams)), params.jsonText)
        }
        for outside in ["/etc/passwd", "../../../../etc/passwd", "/tmp/demo.rkllm"] {
            // Positional, and by name as rknn.init takes its model (`model_path` is the param's member).
            for params: JSONValue in [[["model_path": .string(outside)]], ["model_path": .string(outside)]] {
                let refused = try client.request("rkllm.init", params)
                XCTAssertEqual(refused["error"]?["code"], .int(Int64(RPCError.Code.notPermitted)), outside)
                XCTAssertEqual(refused["error"]?["data"]?["param"], "RKLLMParam.model_path")
            }
        }
        let byName = try client.call("rkllm.init", ["model_path": "demo.rkllm"])["handle"]
        XCTAssertNotNil(byName)
        _ = try client.call("rkllm.destroy", ["handle": byName ?? .null])
        XCTAssertEqual(
            try client.request("rkllm.init", [["model_path": "nope.rkllm"]])["error"]?["data"]?["code"], -2, "missing")
        try "rkllm-sim-model 1\nname=x\ngreeting=hi\nchecksum=0000000000000000\n".write(
            toFile: daemon.directory + "/models/bad.rkllm", atomically: true, encoding: .utf8)
        XCTAssertEqual(
            try client.request("rkllm.init", [["model_path": "bad.rkllm"]])["error"]?["data"]?["code"], -3, "malformed")
        // The repository's model, by absolute path in the second model directory.
        XCTAssertNotNil(
            try client.call("rkllm.init", [["model_path": .string(Built.models + "/demo.rkllm")]])["handle"])
        XCTAssertEqual(
            try client.call("server.stats")["runtimes"]?["rkllm"]?["hosts_running"], 1, "failed loads left no host")
        daemon.assertStopsCleanly()
    }

    func testClientsShareAModelThatOutlivesThemByTheKeepAlive() throws {
        // A keep-alive long enough for the steps between the last destroy and the join, however slow the machine.
        let daemon = try Self.simulated(["RKLLM_KEEP_ALIVE": "3"])
        let alice = try Client(daemon.socket)
        let bob = try Client(daemon.socket)
        func stats() throws -> JSONValue { try alice.call("server.stats")["runtimes"]?["rkllm"] ?? .null }
        let a = try alice.call("rkllm.init", [["model_path": "demo.rkllm"]])
        let b = try bob.call("rkllm.init", ["param": ["model_path": "demo.rkllm"]])
        XCTAssertNil(a["joined"])
        XCTAssertEqual(b["joined"], true, "same parameters (in the other form): joined")
        // Parameters are compared with the defaults filled in: giving a default is giving nothing.
        let explicit = try alice.call(
            "rkllm.init", [["model_path": "demo.rkllm", "top_k": 1, "extend_param": ["n_batch": 1]]])
        XCTAssertEqual(explicit["joined"], true, "top_k 1 and n_batch 1 are the defaults")
        _ = try alice.call("rkllm.destroy", [explicit["handle"]!])
        XCTAssertEqual(try stats()["objects"], 1)
        XCTAssertEqual(try bob.stream("rkllm.run", [b["handle"]!, Self.prompt("hello world")]).text, Self.helloReply)
        // Another model loads beside it (a context length is per instance on either ABI), in an NPU
        // domain of its own; a clash of domains the client chose is the runtime's error.
        let c = try bob.call("rkllm.init", [["model_path": "demo.rkllm", "max_context_len": 512]])
        XCTAssertEqual(try stats()["hosts_running"], 2)
        let clash = try bob.request(
            "rkllm.init", [["model_path": "demo.rkllm", "max_context_len": 256, "extend_param": ["base_domain_id": 1]]])
        XCTAssertEqual(clash["error"]?["data"]?["code"], -5, "domain 1 is the second instance's")
        XCTAssertEqual(try bob.call("rkllm.destroy", [c["handle"]!]), .object([:]))
        XCTAssertEqual(try alice.call("rkllm.destroy", [a["handle"]!]), .object([:]))
        XCTAssertEqual(try bob.call("rkllm.destroy", [b["handle"]!]), .object([:]))
        XCTAssertEqual(try stats()["objects"], 2, "both kept alive")
        let joined = try alice.call("rkllm.init", [["model_path": "demo.rkllm"]])
        XCTAssertEqual(joined["joined"], true, "still loaded: joined again")
        _ = try alice.call("rkllm.destroy", [joined["handle"]!])
        let deadline = Date().addingTimeInterval(60)
        while try stats()["hosts_running"] != 0 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(try stats()["hosts_running"], 0, "unloaded after the keep-alive")
        XCTAssertTrue(daemon.log.contains("unused for 3.0 s: unloading"), daemon.log)
        daemon.assertStopsCleanly()
    }

    func testAHostStartedForACallWithoutAHandleStopsWhenIdle() throws {
        let daemon = try Self.simulated(["RKLLM_KEEP_ALIVE": "0.2"])
        let client = try Client(daemon.socket)
        func stats() throws -> JSONValue { try client.call("server.stats")["runtimes"]?["rkllm"] ?? .null }
        XCTAssertEqual(try client.call("rkllm.createDefaultParam", [])["return"]?["max_context_len"], 1024)
        let deadline = Date().addingTimeInterval(60)
        while try stats()["hosts_running"] != 0 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(try stats()["hosts_running"], 0, "stopped after the keep-alive")
        XCTAssertTrue(daemon.log.contains("rkllm runtime host unused for 0.2 s: stopping"), daemon.log)
        XCTAssertEqual(
            try client.call("rkllm.createDefaultParam", [])["return"]?["max_context_len"], 1024,
            "a fresh host answers the next one")
        XCTAssertEqual(try stats()["hosts_started"], 2)
        daemon.assertStopsCleanly()
    }

    func testTwentyClientsGeneratingOnOneModelCompleteInFIFOOrder() throws {
        let daemon = try Self.simulated(["RKLLM_SIM_TOKEN_US": "5000"])
        let clients = try (0..<20).map { _ in try Client(daemon.socket) }
        var handles: [JSONValue] = []
        for client in clients {
            handles.append(try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"]!)
        }
        // The first run is long (about 900 tokens, 4.5 s): every other client queues behind it while
        // it runs, however slow the machine, and then it is cancelled.
        let long = Self.prompt(Array(repeating: "hello", count: 900).joined(separator: " "))
        for (index, client) in clients.enumerated() {
            try client.start(
                .int(Int64(index)), "rkllm.run", [handles[index], index == 0 ? long : Self.prompt("hello world")])
            let first = try client.readMessage()["result"]
            if index > 0 { XCTAssertEqual(first?[RKLLMTests.queuePosition], .int(Int64(index)), "told its place") }
        }
        try clients[0].send(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":0}}"# + "\n")
        var finished: [Date] = []
        for (index, client) in clients.enumerated() {
            let run = try client.stream(id: .int(Int64(index)))
            XCTAssertEqual(run.final["_callback_state"], 2)
            finished.append(Date())
        }
        // Read in order, each stream's end came after the previous one's: none overtook another.
        let order = try clients.map { try $0.call("rkllm.get_kv_cache_size", [nil]) }
        XCTAssertEqual(order.count, 20)
        XCTAssertEqual(finished, finished.sorted())
        XCTAssertEqual(
            try clients[0].call("server.stats")["runtimes"]?["rkllm"]?["hosts_running"], 1, "one model for all")
        daemon.assertStopsCleanly()
    }

    static let queuePosition = "_queue_position"

    func testAHangUpMidStreamHandsTheModelToTheNextClientAtOnce() throws {
        let daemon = try Self.simulated(["RKLLM_SIM_TOKEN_US": "20000"])
        let leaving = try Client(daemon.socket)
        let next = try Client(daemon.socket)
        let model: JSONValue = [["model_path": "demo.rkllm"]]
        let h1 = try leaving.call("rkllm.init", model)["handle"]!
        let h2 = try next.call("rkllm.init", model)["handle"]!
        let long = Self.prompt(Array(repeating: "hello", count: 400).joined(separator: " "))
        try leaving.start("long", "rkllm.run", [h1, long])
        _ = try leaving.readMessage()
        try next.start("mine", "rkllm.run", [h2, Self.prompt("hello world")])
        XCTAssertEqual(try next.readMessage()["result"]?[Self.queuePosition], 1)
        // A third client queues behind, then hangs up too: its place goes.
        let quitter = try Client(daemon.socket)
        try quitter.start(
            "later", "rkllm.run", [try quitter.call("rkllm.init", model)["handle"]!, Self.prompt("hello")])
        XCTAssertEqual(try quitter.readMessage()["result"]?[Self.queuePosition], 2)
        quitter.hangUp()
        let deadline = Date().addingTimeInterval(60)
        while try next.call("server.stats")["runtimes"]?["rkllm"]?["streams_queued"] != 1 && Date() < deadline {
            usleep(5_000)
        }
        XCTAssertEqual(
            try next.call("server.stats")["runtimes"]?["rkllm"]?["streams_queued"], 1, "only the next client waits")
        let hungUp = Date()
        leaving.hangUp()
        let firstToken = try next.readMessage()
        let waited = Date().timeIntervalSince(hungUp)
        XCTAssertEqual(firstToken["result"]?["text"], "Hello")
        // The leaving client's run had 400 tokens (8 s) to go: the next one did not wait for them.
        XCTAssertLessThan(
            waited, 4, "the next client's first token soon after the hang-up, not after the abandoned run")
        XCTAssertEqual(try next.stream(id: "mine").final["_callback_state"], 2)
        daemon.assertStopsCleanly()
    }

    func testAbortOfTheCallersRunningStreamReachesTheRuntime() throws {
        let daemon = try Self.simulated(["RKLLM_SIM_TOKEN_US": "5000"])
        let client = try Client(daemon.socket)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"])
        let long = Self.prompt(Array(repeating: "hello", count: 900).joined(separator: " "))
        try client.start("run", "rkllm.run", [handle, long])
        XCTAssertEqual(try client.readMessage()["id"], "run", "generating")
        // Its own running stream: rkllm_abort is called, and the run ends early.
        try client.start("abort", "rkllm.abort", [handle])
        var answers: [String: JSONValue] = [:]
        while answers.count < 2 {
            let message = try client.readMessage()
            guard case .string(let id)? = message["id"] else { continue }
            if id == "run", let state = message["result"]?["_callback_state"], state != 2 { continue }
            answers[id] = message
        }
        XCTAssertEqual(answers["abort"]?["result"], .object([:]))
        let generated = try XCTUnwrap(answers["run"]?["result"]?["perf"]?["generate_tokens"]?.intValue)
        XCTAssertLessThan(generated, 900, "the runtime stopped before the end of its reply")
        XCTAssertEqual(try client.stream("rkllm.run", [handle, Self.prompt("hello world")]).text, Self.helloReply)
        daemon.assertStopsCleanly()
    }

    func testAbortAndCancelStopOnlyTheCallersRequests() throws {
        let daemon = try Self.simulated(["RKLLM_SIM_TOKEN_US": "5000"])
        let alice = try Client(daemon.socket)
        let bob = try Client(daemon.socket)
        let model: JSONValue = [["model_path": "demo.rkllm"]]
        let a = try alice.call("rkllm.init", model)["handle"]!
        let b = try bob.call("rkllm.init", model)["handle"]!
        // A reply of about 900 tokens (4.5 s): Alice's run is still going through what follows.
        let long = Self.prompt(Array(repeating: "hello", count: 900).joined(separator: " "))
        try alice.start("a1", "rkllm.run", [a, long])
        _ = try alice.readMessage()
        try bob.start("b1", "rkllm.run", [b, Self.prompt("hello world")])
        XCTAssertEqual(try bob.readMessage()["result"]?[Self.queuePosition], 1)
        // Bob's abort drops his queued run and leaves Alice's running.
        try bob.start("abort", "rkllm.abort", [b])
        let dropped = try bob.readMessage()
        XCTAssertEqual(dropped["id"], "b1")
        XCTAssertEqual(dropped["error"]?["code"], .int(Int64(RPCError.Code.cancelled)))
        XCTAssertEqual(try bob.readMessage()["result"], .object([:]), "the abort's answer")
        XCTAssertEqual(try alice.readMessage()["id"], "a1", "still generating")
        // Answered beside the run: queued behind it, it would have found the model idle.
        XCTAssertEqual(
            try bob.call("rkllm.is_running", [b]), TestABI.running, "the shared model is running (Alice's run)")
        // Alice queues a second run, cancels it, then cancels the running one.
        try alice.start("a2", "rkllm.run", [a, Self.prompt("hello")])
        try alice.send(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"a2"}}"# + "\n")
        try alice.send(#"{"jsonrpc":"2.0","id":"c","method":"$/cancelRequest","params":["a1"]}"# + "\n")
        var a1: [JSONValue] = []
        var answers: [String: JSONValue] = [:]
        while answers.count < 3 {
            let message = try alice.readMessage()
            guard case .string(let id)? = message["id"] else { continue }
            if id == "a1", message["result"]?["_callback_state"] != 2 {
                a1.append(message)
                continue
            }
            if id == "a2", message["result"]?[Self.queuePosition] != nil { continue }
            answers[id] = message
        }
        XCTAssertEqual(answers["a2"]?["error"]?["code"], .int(Int64(RPCError.Code.cancelled)))
        XCTAssertEqual(answers["c"]?["result"], ["cancelled": true])
        let generated = try XCTUnwrap(answers["a1"]?["result"]?["perf"]?["generate_tokens"]?.intValue)
        XCTAssertLessThan(generated, 900, "aborted before the end of its reply")
        XCTAssertEqual(answers["a1"]?["result"]?["_ended"], "cancelled", "the answer says why it ended")
        // Aborted by its own client, a stream says so; one that runs out says it finished.
        try alice.start("a3", "rkllm.run", [a, long])
        _ = try alice.readMessage()
        try alice.start("stop", "rkllm.abort", [a])
        var ends: [String: JSONValue] = [:]
        while ends.count < 2 {
            let message = try alice.readMessage()
            guard case .string(let id)? = message["id"] else { continue }
            if id == "a3", message["result"]?["_callback_state"] != 2 { continue }
            ends[id] = message
        }
        XCTAssertEqual(ends["stop"]?["result"], .object([:]))
        XCTAssertEqual(ends["a3"]?["result"]?["_ended"], "aborted")
        XCTAssertEqual(try bob.stream("rkllm.run", [b, Self.prompt("hello world")]).final["_ended"], "finished")
        XCTAssertEqual(
            try bob.stream("rkllm.run", [b, Self.prompt("hello world")]).text, Self.helloReply,
            "the model is free again")
        daemon.assertStopsCleanly()
    }

    func testAFullQueueIsBusyAndAWaitLimitEndsAQueuedRequest() throws {
        let daemon = try Self.simulated([
            "RKLLM_SIM_TOKEN_US": "20000", "RKLLM_MAX_QUEUE": "1", "RKLLM_QUEUE_TIMEOUT": "0.3",
        ])
        let clients = try (0..<3).map { _ in try Client(daemon.socket) }
        let handles = try clients.map { try $0.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"]! }
        // A run of about 160 tokens (3.2 s), ten times the queued one's wait limit.
        let words = Array(repeating: "hello", count: 150)
        try clients[0].start("run", "rkllm.run", [handles[0], Self.prompt(words.joined(separator: " "))])
        _ = try clients[0].readMessage()
        try clients[1].start("run", "rkllm.run", [handles[1], Self.prompt("hello world")])
        XCTAssertEqual(try clients[1].readMessage()["result"]?[Self.queuePosition], 1)
        let full = try clients[2].request("rkllm.run", [handles[2], Self.prompt("hello world")])
        XCTAssertEqual(full["error"]?["code"], .int(Int64(RPCError.Code.queueFull)))
        XCTAssertEqual(full["error"]?["data"]?["limit"], 1)
        let waited = try clients[1].readMessage()
        XCTAssertEqual(
            waited["error"]?["code"], .int(Int64(RPCError.Code.handleBusy)), "waited past RKLLM_QUEUE_TIMEOUT")
        let reply = "Hello from the demo model, ça va? 你好:" + String(repeating: " hello", count: words.count) + "."
        XCTAssertEqual("Hello" + (try clients[0].stream(id: "run").text), reply, "the running one was not disturbed")
        daemon.assertStopsCleanly()
    }

    func testFaultsFromTheEnvironmentApplyToEveryModel() throws {
        let failing = try Self.simulated(["RKLLM_SIM_INIT_ERROR": "-12"])
        XCTAssertEqual(
            try Client(failing.socket).request("rkllm.init", [["model_path": "demo.rkllm"]])["error"]?["data"]?["code"],
            -12)
        failing.assertStopsCleanly()
        let crashing = try Self.simulated(["RKLLM_SIM_CRASH_AT_TOKEN": "1", "RKLLM_SIM_RUN_ERROR": "0"])
        let client = try Client(crashing.socket)
        let handle = try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"]!
        XCTAssertEqual(
            try client.stream("rkllm.run", [handle, Self.prompt("hello")]).error?["data"]?["signal"], "SIGSEGV")
        crashing.assertStopsCleanly()
    }

    func testInjectedFaultsGiveTheirOutcomesAndOthersStayServed() throws {
        let daemon = try Self.simulated(["RKLLM_SIM_TOKEN_US": "1000"], arguments: ["--run-timeout", "3"])
        try Models.model(daemon, "init-error.rkllm", ["--init-error", "-9"])
        try Models.model(daemon, "run-error.rkllm", ["--run-error", "-11"])
        try Models.model(daemon, "crash.rkllm", ["--crash-at-token", "3"])
        try Models.model(daemon, "hang.rkllm", ["--hang-at-token", "2"])
        let victim = try Client(daemon.socket)
        let bystander = try Client(daemon.socket)
        let healthy = try bystander.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"]!

        XCTAssertEqual(
            try victim.request("rkllm.init", [["model_path": "init-error.rkllm"]])["error"]?["data"]?["code"], -9)
        let runError = try victim.stream(
            "rkllm.run",
            [try victim.call("rkllm.init", [["model_path": "run-error.rkllm"]])["handle"]!, Self.prompt("hi")])
        XCTAssertEqual(runError.final["_callback_state"], 3)
        XCTAssertEqual(runError.final["code"], -11, "the runtime's code with the error state")

        let crash = try victim.stream(
            "rkllm.run",
            [try victim.call("rkllm.init", [["model_path": "crash.rkllm"]])["handle"]!, Self.prompt("hello world")])
        XCTAssertEqual(crash.messages.count, 2, "two tokens, then the crash at the third")
        XCTAssertEqual(crash.error?["code"], .int(Int64(RPCError.Code.runtimeCrashed)))
        XCTAssertEqual(crash.error?["data"]?["signal"], "SIGSEGV")
        XCTAssertEqual(try bystander.stream("rkllm.run", [healthy, Self.prompt("hello world")]).text, Self.helloReply)

        let hang = try victim.stream(
            "rkllm.run",
            [try victim.call("rkllm.init", [["model_path": "hang.rkllm"]])["handle"]!, Self.prompt("hello world")])
        XCTAssertEqual(hang.error?["data"]?["signal"], "SIGKILL", "killed after RKLLM_RUN_TIMEOUT without progress")
        XCTAssertEqual(try bystander.stream("rkllm.run", [healthy, Self.prompt("hello world")]).text, Self.helloReply)
        XCTAssertEqual(try bystander.call("server.stats")["runtimes"]?["rkllm"]?["crashes"], 2)
        daemon.assertStopsCleanly()
    }
}

/// Model and adapter files of the simulated runtime, made with sim-model in a daemon's
/// own model directory.
enum Models {
    static func model(_ daemon: Daemon, _ name: String, _ options: [String]) throws {
        try run(["rkllm", "--out", daemon.directory + "/models/" + name] + options)
    }

    static func lora(_ daemon: Daemon, _ name: String, tag: String) throws {
        try run(["lora", "--out", daemon.directory + "/models/" + name, "--tag", tag])
    }

    private static func run(_ arguments: [String]) throws {
        let tool = Process()
        tool.executableURL = URL(fileURLWithPath: Built.modelTool)
        tool.arguments = arguments
        try tool.run()
        tool.waitUntilExit()
        guard tool.terminationStatus == 0 else { throw Failure("sim-model \(arguments) failed") }
    }
}

/// A stream's messages as a client reads them.
struct StreamRead {
    /// The results before the last message (tokens; not queue positions).
    var messages: [JSONValue] = []
    /// The last result (the finish or error state), or null when the request failed.
    var final: JSONValue = .null
    /// The JSON-RPC error the stream ended with, if any.
    var error: JSONValue?
    var text: String {
        messages.compactMap { if case .string(let s)? = $0["text"] { return s } else { return nil } }.joined()
    }
}

extension Client {
    /// Sends a request without reading.
    func start(_ id: JSONValue, _ method: String, _ params: JSONValue) throws {
        let message: JSONValue = ["jsonrpc": "2.0", "id": id, "method": .string(method), "params": params]
        try send(message.jsonText + "\n")
    }

    /// The next answer, and the `key` members of the messages before it.
    func answer(after key: String) throws -> (answer: JSONValue, before: [JSONValue]) {
        var before: [JSONValue] = []
        while true {
            let message = try readMessage()
            guard let member = message["result"]?[key] else { return (message, before) }
            before.append(member)
        }
    }

    /// A streaming request, read to its last message.
    func stream(_ method: String, _ params: JSONValue) throws -> StreamRead {
        try start("stream", method, params)
        return try stream(id: "stream")
    }

    /// Reads request `id`'s messages to the last: an error, or a result that is not a token or a
    /// queue position.
    func stream(id: JSONValue) throws -> StreamRead {
        var read = StreamRead()
        while true {
            let message = try readMessage()
            guard message["id"] == id else { throw Failure("a message of another request: \(message.jsonText)") }
            if let error = message["error"] {
                read.error = error
                return read
            }
            let result = message["result"] ?? .null
            if result[RKLLMTests.queuePosition] != nil { continue }
            switch result["_callback_state"] {
            case 0?, 1?: read.messages.append(result)
            default:
                read.final = result
                return read
            }
        }
    }

    func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }
}

extension JSONValue {
    var intValue: Int? { if case .int(let n) = self { return Int(n) } else { return nil } }
    var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    var doubleValue: Double? {
        switch self {
        case .int(let n): Double(n)
        case .uint(let n): Double(n)
        case .double(let d): d
        default: nil
        }
    }
}
