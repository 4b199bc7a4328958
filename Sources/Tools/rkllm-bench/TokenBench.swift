import BindingRuntime
import CRKLLM_1_2_3
import Foundation

/// `rkllm-bench tokens`: generation through the daemon against the same simulated runtime driven
/// directly in this process, and the latency the daemon adds to each token (the runtime's callback
/// stamps CLOCK_MONOTONIC into the token's text; the client subtracts it from its receive time).
///
///   rkllm-bench tokens [--words 2000] [--token-us 1000]
///
/// `--words`: the prompt's length; the demo model's reply repeats its words, so it sets the tokens
/// generated per run. `--token-us`: the simulated time per token of the latency run (the throughput
/// runs are at full speed).
func tokens(_ options: Options) throws {
    let library = besideBench("librkllmrt_sim.so")
    let models = repositoryModels
    let prompt = Array(repeating: "hello", count: options.words).joined(separator: " ")
    for (name, value) in [
        "RKLLM_SIM_TOKEN_US": "0", "RKLLM_SIM_PREFILL_US": "0", "RKLLM_SIM_LOAD_MS": "0",
        "RKLLM_RUNTIME_LIB": library, "RKLLM_MODEL_DIRS": models, "RKLLM_KEEP_ALIVE": "0",
    ] {
        setenv(name, value, 1)
    }
    let direct = try DirectRuntime(library: library, model: models + "/demo.rkllm")
    let directRate = try direct.tokensPerSecond(prompt: prompt, runs: 3)
    direct.destroy()  // frees its NPU domain for the daemon's instance

    let target = try Target(socket: nil, maxConnections: 4)
    var received = 0
    var elapsed: UInt64 = 0
    do {
        defer { target.stop() }
        let client = try BenchClient(target.socket)
        let handle = try client.initDemo()
        let started = now()
        for _ in 0..<3 { received += try client.run(handle: handle, prompt: prompt) { _, _ in } }
        elapsed = now() - started
    }
    let daemonRate = Double(received) / (Double(elapsed) / 1e9)
    print("tokens: \(options.words)-word prompt, \(received / 3) tokens per run, simulated runtime at full speed")
    print(String(format: "  direct (in process): %.0f tokens/s", directRate))
    print(String(format: "  through the daemon:  %.0f tokens/s (%.2f of direct)", daemonRate, daemonRate / directRate))

    // Latency at a pace where tokens do not queue behind each other: a fresh daemon with the
    // runtime stamping each token's callback time into its text.
    setenv("RKLLM_SIM_TIMESTAMPS", "1", 1)
    setenv("RKLLM_SIM_TOKEN_US", String(options.tokenMicros), 1)
    let paced = try Target(socket: nil, maxConnections: 4)
    defer { paced.stop() }
    let stamped = try BenchClient(paced.socket)
    stamped.polls = true  // the time the bytes reach the client's socket, not this process's wake-up
    let pacedHandle = try stamped.initDemo()
    var latencies: [UInt64] = []
    _ = try stamped.run(handle: pacedHandle, prompt: prompt) { message, receivedAt in
        guard case .string(let text)? = message["text"], let stamp = UInt64(text), receivedAt >= stamp else { return }
        latencies.append(receivedAt - stamp)
    }
    print(
        String(
            format:
                "  added latency, runtime callback -> client (%d tokens at %d us each): p50 %.1f us, p99 %.1f us, max %.1f us",
            latencies.count, options.tokenMicros, percentile(latencies, 0.5), percentile(latencies, 0.99),
            percentile(latencies, 1)))
}

/// Time to the first token, p50 and p99 in microseconds: the runtime's own (rkllm_run called in
/// this process to its first callback) and a client's through the daemon (`rkllm.run` sent to the
/// first token read), `runs` short generations each at `--token-us` per token.
struct FirstToken {
    var runtime: (p50: Double, p99: Double)
    var daemon: (p50: Double, p99: Double)
}

func firstToken(runs: Int, tokenMicros: Int) throws -> FirstToken {
    let library = besideBench("librkllmrt_sim.so")
    let prompt = Array(repeating: "hello", count: 8).joined(separator: " ")
    for (name, value) in [
        "RKLLM_SIM_TOKEN_US": String(tokenMicros), "RKLLM_SIM_PREFILL_US": "0", "RKLLM_SIM_LOAD_MS": "0",
        "RKLLM_RUNTIME_LIB": library, "RKLLM_MODEL_DIRS": repositoryModels, "RKLLM_KEEP_ALIVE": "0",
    ] {
        setenv(name, value, 1)
    }
    let direct = try DirectRuntime(library: library, model: repositoryModels + "/demo.rkllm")
    let own = try direct.firstTokenTimes(prompt: prompt, runs: runs)
    direct.destroy()

    let target = try Target(socket: nil, maxConnections: 4)
    defer { target.stop() }
    let client = try BenchClient(target.socket)
    client.polls = true
    let handle = try client.initDemo()
    var through: [UInt64] = []
    for _ in 0..<runs {
        let sent = now()
        var first: UInt64?
        _ = try client.run(handle: handle, prompt: prompt) { _, receivedAt in first = first ?? receivedAt }
        through.append((first ?? sent) - sent)
    }
    return FirstToken(
        runtime: (percentile(own, 0.5), percentile(own, 0.99)),
        daemon: (percentile(through, 0.5), percentile(through, 0.99)))
}

/// The simulated runtime loaded in this process, as a client of the C ABI would use it.
private final class DirectRuntime {
    typealias Init =
        @convention(c) (UnsafeMutablePointer<LLMHandle?>?, UnsafeMutablePointer<RKLLMParam>?, LLMResultCallback?) ->
        Int32
    typealias Run =
        @convention(c) (
            LLMHandle?, UnsafeMutablePointer<RKLLMInput>?, UnsafeMutablePointer<RKLLMInferParam>?,
            UnsafeMutableRawPointer?
        ) -> Int32
    typealias Defaults = @convention(c) () -> RKLLMParam
    typealias Destroy = @convention(c) (LLMHandle?) -> Int32
    private let run: Run
    private let destroyHandle: Destroy
    private let handle: LLMHandle

    /// Tokens seen by the callback (one thread: rkllm_run calls back on the caller's), and when
    /// the first of a run arrived.
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var firstAt: UInt64?

    init(library: String, model: String) throws {
        guard let image = dlopen(library, RTLD_NOW) else {
            throw BenchError("dlopen \(library): \(String(cString: dlerror()))")
        }
        func symbol<T>(_ name: String, _ type: T.Type) throws -> T {
            guard let address = dlsym(image, name) else { throw BenchError("\(name) not in \(library)") }
            return unsafeBitCast(address, to: type)
        }
        run = try symbol("rkllm_run", Run.self)
        destroyHandle = try symbol("rkllm_destroy", Destroy.self)
        var param = try symbol("rkllm_createDefaultParam", Defaults.self)()
        param.max_new_tokens = 1 << 20
        param.max_context_len = 1 << 20
        var created: LLMHandle?
        let status = model.withCString { path in
            param.model_path = path
            return (try? symbol("rkllm_init", Init.self))?(
                &created, &param,
                { _, _, state in
                    if state == RKLLM_RUN_NORMAL || state == RKLLM_RUN_WAITING {
                        DirectRuntime.count += 1
                        DirectRuntime.firstAt = DirectRuntime.firstAt ?? now()
                    }
                    return 0
                }) ?? -1
        }
        guard status == 0, let created else { throw BenchError("rkllm_init returned \(status)") }
        handle = created
    }

    func destroy() { _ = destroyHandle(handle) }

    func tokensPerSecond(prompt: String, runs: Int) throws -> Double {
        Self.count = 0
        let started = now()
        for _ in 0..<runs { try generate(prompt) }
        return Double(Self.count) / (Double(now() - started) / 1e9)
    }

    /// The runtime's own time to the first token: from rkllm_run's call to its first callback (ns).
    func firstTokenTimes(prompt: String, runs: Int) throws -> [UInt64] {
        try (0..<runs).map { _ in
            Self.firstAt = nil
            let started = now()
            try generate(prompt)
            return (Self.firstAt ?? started) - started
        }
    }

    private func generate(_ prompt: String) throws {
        let status = prompt.withCString { text -> Int32 in
            var input = RKLLMInput()
            input.input_type = RKLLM_INPUT_PROMPT
            input.prompt_input = text
            var infer = RKLLMInferParam()
            return run(handle, &input, &infer, nil)
        }
        guard status == 0 else { throw BenchError("rkllm_run returned \(status)") }
    }
}

extension BenchClient {
    func initDemo() throws -> JSONValue {
        let result = try call(
            "rkllm.init", [["model_path": "demo.rkllm", "max_new_tokens": 1_048_576, "max_context_len": 1_048_576]])
        guard let handle = result["handle"] else { throw BenchError("rkllm.init: \(result.jsonText)") }
        return handle
    }

    /// One run; `each` gets every token message and when its read returned. Returns the tokens.
    func run(handle: JSONValue, prompt: String, each: (JSONValue, UInt64) -> Void) throws -> Int {
        try send([
            "jsonrpc": "2.0", "id": 2, "method": "rkllm.run",
            "params": [handle, ["input_type": "RKLLM_INPUT_PROMPT", "prompt_input": .string(prompt)]],
        ])
        var count = 0
        while true {
            let message = try nextMessage()
            guard let result = message["result"] else { throw BenchError("rkllm.run: \(message.jsonText)") }
            // The answer ends the stream (`_ended`): anything but a finished one is no measurement.
            if case .string(let ending)? = result[StreamMember.ended] {
                guard StreamEnding(name: ending) == .finished else { throw BenchError("rkllm.run: \(result.jsonText)") }
                return count
            }
            count += 1
            each(result, lastRead)
        }
    }
}
