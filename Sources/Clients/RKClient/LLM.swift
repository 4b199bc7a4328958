import BindingRuntime

/// A language model on the daemon, the way a chat program uses one: loaded (or joined) with
/// `rkllm.init`, its replies as streams of text.
public final class LLM: Sendable {
    public let client: RKClient
    /// The daemon's handle of the model.
    public let handle: JSONValue

    /// `params`: RKLLMParam members besides the model (`["max_new_tokens": 256]`).
    public init(_ model: String, client: RKClient, params: JSONObject = [:]) async throws {
        var param = params
        param["model_path"] = .string(model)
        self.client = client
        guard let handle = try await client.call("rkllm.init", [.object(param)])["handle"] else {
            throw RPCError(code: RPCError.Code.internalError, message: "rkllm.init answered no handle")
        }
        self.handle = handle
    }

    /// The reply's text piece by piece; `keepHistory`: the turn stays in the model's KV cache (a
    /// conversation; the model becomes this client's own). Cancelling the consumer cancels the run.
    public func generate(prompt: String, role: String = "user", keepHistory: Bool = false)
        -> AsyncThrowingStream<String, Error>
    {
        let messages = client.stream(
            "rkllm.run",
            [
                handle, ["role": .string(role), "input_type": "RKLLM_INPUT_PROMPT", "prompt_input": .string(prompt)],
                ["keep_history": .int(keepHistory ? 1 : 0)],
            ])
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await message in messages {
                        if case .string(let text)? = message["text"], !text.isEmpty { continuation.yield(text) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Releases the model (it unloads once no client holds it, after the keep-alive).
    public func close() async throws { _ = try await client.call("rkllm.destroy", [handle]) }
}
