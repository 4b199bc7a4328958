import BindingRuntime
import CRKHeaders
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
    let library = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "librkllmrt_sim.so").path
    let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "models").path
    let prompt = Array(repeating: "hello", count: options.words).joined(separator: " ")
    for (name, value) in ["RKLLM_SIM_TOKEN_US": "0", "RKLLM_SIM_PREFILL_US": "0", "RKLLM_SIM_LOAD_MS": "0",
                          "RKLLM_RUNTIME_LIB": library, "RKLLM_MODEL_DIRS": models, "RKLLM_KEEP_ALIVE": "0"] {
        setenv(name, value, 1)
    }
    let direct = try DirectRuntime(library: library, model: models + "/demo.rkllm")
    let directRate = try direct.tokensPerSecond(prompt: prompt, runs: 3)
    direct.destroy() // frees its NPU domain for the daemon's instance

    let target = try Target(socket: nil, maxConnections: 4)
    var received = 0
    var elapsed: UInt64 = 0
    do {
        defer { target.stop() }
        let client = try StreamClient(target.socket)
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
    let stamped = try StreamClient(paced.socket)
    let pacedHandle = try stamped.initDemo()
    var latencies: [UInt64] = []
    _ = try stamped.run(handle: pacedHandle, prompt: prompt) { message, receivedAt in
        guard case .string(let text)? = message["text"], let stamp = UInt64(text), receivedAt >= stamp else { return }
        latencies.append(receivedAt - stamp)
    }
    latencies.sort()
    func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000 }
    print(String(format: "  added latency, runtime callback -> client (%d tokens at %d us each): p50 %.1f us, p99 %.1f us, max %.1f us",
                 latencies.count, options.tokenMicros, percentile(0.5), percentile(0.99), percentile(1)))
}

/// The simulated runtime loaded in this process, as a client of the C ABI would use it.
private final class DirectRuntime {
    typealias Init = @convention(c) (UnsafeMutablePointer<LLMHandle?>?, UnsafeMutablePointer<RKLLMParam>?, LLMResultCallback?) -> Int32
    typealias Run = @convention(c) (LLMHandle?, UnsafeMutablePointer<RKLLMInput>?, UnsafeMutablePointer<RKLLMInferParam>?, UnsafeMutableRawPointer?) -> Int32
    typealias Defaults = @convention(c) () -> RKLLMParam
    typealias Destroy = @convention(c) (LLMHandle?) -> Int32
    private let run: Run
    private let destroyHandle: Destroy
    private let handle: LLMHandle

    /// Tokens seen by the callback (one thread: rkllm_run calls back on the caller's).
    nonisolated(unsafe) static var count = 0

    init(library: String, model: String) throws {
        guard let image = dlopen(library, RTLD_NOW) else { throw BenchError("dlopen \(library): \(String(cString: dlerror()))") }
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
            return (try? symbol("rkllm_init", Init.self))?(&created, &param, { _, _, state in
                if state == RKLLM_RUN_NORMAL || state == RKLLM_RUN_WAITING { DirectRuntime.count += 1 }
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
        for _ in 0..<runs {
            let status = prompt.withCString { text -> Int32 in
                var input = RKLLMInput()
                input.input_type = RKLLM_INPUT_PROMPT
                input.prompt_input = text
                var infer = RKLLMInferParam()
                return run(handle, &input, &infer, nil)
            }
            guard status == 0 else { throw BenchError("rkllm_run returned \(status)") }
        }
        return Double(Self.count) / (Double(now() - started) / 1e9)
    }
}

/// A client of rkllm.* that reads a stream line by line, timing each read.
private final class StreamClient {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var pending: [UInt8] = []

    init(_ socket: String) throws { fd = try connect(socket) }
    deinit { close(fd) }

    func initDemo() throws -> JSONValue {
        try sendAll(fd, Array(#"{"jsonrpc":"2.0","id":1,"method":"rkllm.init","params":[{"model_path":"demo.rkllm","max_new_tokens":1048576,"max_context_len":1048576}]}"#.utf8) + [0x0A])
        let (answer, _) = try nextMessage()
        guard let handle = answer["result"]?["handle"] else { throw BenchError("rkllm.init: \(answer.jsonText)") }
        return handle
    }

    /// One run; `each` gets every token message and when its read returned. Returns the tokens.
    func run(handle: JSONValue, prompt: String, each: (JSONValue, UInt64) -> Void) throws -> Int {
        let request: JSONValue = ["jsonrpc": "2.0", "id": 2, "method": "rkllm.run",
                                  "params": [handle, ["input_type": "RKLLM_INPUT_PROMPT", "prompt_input": .string(prompt)]]]
        try sendAll(fd, Array(request.jsonText.utf8) + [0x0A])
        var count = 0
        while true {
            let (message, receivedAt) = try nextMessage()
            guard let result = message["result"] else { throw BenchError("rkllm.run: \(message.jsonText)") }
            if result["_callback_state"] == 2 { return count }
            count += 1
            each(result, receivedAt)
        }
    }

    private var lastRead: UInt64 = 0

    private func nextMessage() throws -> (JSONValue, UInt64) {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                return (try JSONParser.parse(line), lastRead)
            }
            // Polled, not blocked in: the time is when the bytes reach the client's socket, without
            // this process's own wake-up.
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { continue }
            guard n > 0 else { throw BenchError("the daemon closed the connection") }
            lastRead = now()
            pending.append(contentsOf: buffer[0..<n])
        }
    }
}
