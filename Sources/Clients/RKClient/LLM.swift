import BindingRuntime

/// A language model on the daemon, the way a chat program uses one: loaded (or joined) with
/// `rkllm.init`, its replies as streams of text.
public final class LLM: Sendable {
    public let client: RKClient
    /// The daemon's handle of the model.
    public let handle: JSONValue

    /// `params`: RKLLMParam members besides the model (`["max_new_tokens": 256]`); `loading` gets
    /// the daemon's word on the load every second while it lasts.
    public init(
        _ model: String, client: RKClient, params: JSONObject = [:],
        loading: (@Sendable (JSONValue) -> Void)? = nil
    ) async throws {
        var param = params
        param["model_path"] = .string(model)
        self.client = client
        guard let handle = try await client.call("rkllm.init", [.object(param)], loading: loading)["handle"] else {
            throw RPCError(code: RPCError.Code.internalError, message: "rkllm.init answered no handle")
        }
        self.handle = handle
    }

    /// The reply's messages as they come, the last one (`_ended`, `perf`) included; `keepHistory`:
    /// the turn stays in the model's KV cache (a conversation; the model becomes this client's
    /// own). Cancelling the consumer cancels the run.
    public func run(prompt: String, role: String = "user", keepHistory: Bool = false)
        -> AsyncThrowingStream<JSONValue, Error>
    {
        client.stream(
            "rkllm.run",
            [
                handle, ["role": .string(role), "input_type": "RKLLM_INPUT_PROMPT", "prompt_input": .string(prompt)],
                ["keep_history": .int(keepHistory ? 1 : 0)],
            ])
    }

    /// The reply's text piece by piece (`run`'s messages' text).
    public func generate(prompt: String, role: String = "user", keepHistory: Bool = false)
        -> AsyncThrowingStream<String, Error>
    {
        let messages = run(prompt: prompt, role: role, keepHistory: keepHistory)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await message in messages {
                        if let text = message.text, !text.isEmpty { continuation.yield(text) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Starts a new conversation (the system prompt's tokens stay in the cache when `keepSystemPrompt`).
    public func reset(keepSystemPrompt: Bool = true) async throws {
        _ = try await client.call("rkllm.clear_kv_cache", [handle, .int(keepSystemPrompt ? 1 : 0), nil, nil])
    }

    /// The chat template: the system prompt and what goes before and after each prompt.
    public func setTemplate(systemPrompt: String, promptPrefix: String, promptPostfix: String) async throws {
        _ = try await client.call(
            "rkllm.set_chat_template",
            [handle, .string(systemPrompt), .string(promptPrefix), .string(promptPostfix)])
    }

    /// Releases the model (it unloads once no client holds it, after the keep-alive).
    public func close() async throws { _ = try await client.call("rkllm.destroy", [handle]) }
}
