import BindingRuntime
import Foundation

/// `rkllm-bench turns`: what a conversation's next turn costs. Each client keeps its conversation
/// (`keep_history`) on the demo model, which the daemon then gives it an instance of its own; the
/// simulated runtime prefills at RKLLM_SIM_PREFILL_US per token (default 2000). A turn should
/// prefill only its own prompt, whether the same client spoke just before (twice in a row) or
/// another client spoke in between, and so wait as long: printed per turn, prefilled tokens and the
/// time to its first token, against a client's first turn (its system prompt and prompt).
func turns(_ options: Options) throws {
    for (name, value) in [
        "RKLLM_RUNTIME_LIB": besideBench("librkllmrt_sim.so"), "RKLLM_MODEL_DIRS": repositoryModels,
        "RKLLM_KEEP_ALIVE": "0", "RKLLM_SIM_TOKEN_US": "1000", "RKLLM_SIM_LOAD_MS": "0",
    ] {
        setenv(name, value, 1)
    }
    let target = try Target(socket: nil, maxConnections: 4)
    defer { target.stop() }
    let (alice, bob) = (try BenchClient(target.socket), try BenchClient(target.socket))
    let handles = [try alice.initDemo(), try bob.initDemo()]
    let clients = [alice, bob]
    let prompt = Array(repeating: "hello", count: options.words).joined(separator: " ")
    let prefillMs = Double(ProcessInfo.processInfo.environment["RKLLM_SIM_PREFILL_US"].flatMap(Int.init) ?? 2000) / 1000
    print("turns: \(options.words)-word prompts, each client keeping its conversation")
    for (turn, speaker) in [(1, 0), (2, 0), (3, 0), (1, 1), (4, 0), (2, 1), (5, 0)] {
        let (prefilled, firstToken) = try clients[speaker].turn(handle: handles[speaker], prompt: prompt)
        let who = speaker == 0 ? "alice" : "bob  "
        // The runtime's own time to the first token: its prefill, then one token.
        let own = Double(prefilled) * prefillMs + 1
        print(
            String(
                format: "  %@ turn %d: %4d tokens prefilled, first token after %6.1f ms (the runtime's own %6.1f ms)",
                who, turn, prefilled, firstToken, own))
    }
}

extension BenchClient {
    /// One turn kept in the conversation: the tokens the runtime prefilled, and the milliseconds
    /// from sending it to its first token.
    func turn(handle: JSONValue, prompt: String) throws -> (prefilled: Int, firstTokenMs: Double) {
        let sent = now()
        try send([
            "jsonrpc": "2.0", "id": 3, "method": "rkllm.run",
            "params": [handle, ["role": "user", "prompt_input": .string(prompt)], ["keep_history": 1]],
        ])
        var first: UInt64?
        while true {
            let message = try nextMessage()
            guard let result = message["result"] else { throw BenchError("rkllm.run: \(message.jsonText)") }
            if result[StreamMember.ended] != nil {
                guard case .int(let prefilled)? = result["perf"]?["prefill_tokens"] else {
                    throw BenchError("no perf: \(result.jsonText)")
                }
                return (Int(prefilled), Double((first ?? lastRead) - sent) / 1e6)
            }
            if first == nil, result["text"] != nil { first = lastRead }
        }
    }
}
