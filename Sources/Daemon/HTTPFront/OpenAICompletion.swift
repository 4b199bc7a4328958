import BindingRuntime
import Foundation

/// One completion's response in OpenAI's shapes: a whole `chat.completion` (or `text_completion`),
/// or server-sent `chat.completion.chunk` events: the role first, the text as it comes, the finish
/// reason, the usage when asked, `[DONE]`. Loop thread only.
final class OpenAICompletion: GenerationResponder {
    private let exchange: HTTPExchange
    private let model: String
    private let chat: Bool
    private let stream: Bool
    private let includeUsage: Bool
    private let pieceByPiece: Bool
    private let id: String
    private let created = Int64(CheckedNumbers.wholePart(Date().timeIntervalSince1970))
    private var started = false

    init(exchange: HTTPExchange, model: String, chat: Bool, stream: Bool, includeUsage: Bool, pieceByPiece: Bool) {
        self.exchange = exchange
        self.model = model
        self.chat = chat
        self.stream = stream
        self.includeUsage = includeUsage
        self.pieceByPiece = stream && pieceByPiece
        id = "\(chat ? "chatcmpl" : "cmpl")-\(UInt64.random(in: 1...UInt64.max))"
    }

    private var object: String { chat ? (stream ? "chat.completion.chunk" : "chat.completion") : "text_completion" }

    /// A streamed response starts (as soon as the model loads or the run waits: the client knows
    /// it is being answered).
    func begin(loading seconds: Double? = nil) {
        guard stream, !started else { return }
        started = true
        exchange.startStream(status: 200, contentType: "text/event-stream")
        if chat { event(["index": 0, "delta": ["role": "assistant", "content": ""], "finish_reason": nil]) }
    }

    func piece(_ text: String) {
        guard pieceByPiece else { return }
        begin()
        event(choice(text: text, finish: nil))
    }

    func finish(_ outcome: TextGenerator.Outcome) {
        let calls = OpenAIDialect.toolCalls(outcome.toolCalls)
        let usage: JSONValue = [
            "prompt_tokens": .int(Int64(outcome.promptTokens)),
            "completion_tokens": .int(Int64(outcome.completionTokens)),
            "total_tokens": .int(Int64(outcome.promptTokens + outcome.completionTokens)),
        ]
        guard stream else {
            var message: JSONObject = ["role": "assistant", "content": calls.isEmpty ? .string(outcome.text) : .null]
            if !calls.isEmpty { message["tool_calls"] = .array(calls) }
            var whole =
                chat
                ? ["index": 0, "message": .object(message), "logprobs": nil] : choice(text: outcome.text, finish: nil)
            whole["finish_reason"] = .string(outcome.finishReason)
            return exchange.respond(status: 200, json: .object(envelope(choices: [.object(whole)], usage: usage)))
        }
        begin()
        if !pieceByPiece {
            // What was held back, at once: the text, or the calls (indexed, as stream deltas are).
            if chat && !calls.isEmpty {
                let indexed: [JSONValue] = calls.enumerated().map { index, call in
                    guard case .object(var members) = call else { return call }
                    members["index"] = .int(Int64(index))
                    return .object(members)
                }
                event(["index": 0, "delta": ["tool_calls": .array(indexed)], "finish_reason": nil])
            } else {
                event(choice(text: outcome.text, finish: nil))
            }
        }
        event(
            chat
                ? ["index": 0, "delta": [:], "finish_reason": .string(outcome.finishReason)]
                : choice(text: "", finish: outcome.finishReason))
        if includeUsage { send(envelope(choices: [], usage: usage)) }
        exchange.send("data: [DONE]\n\n")
        exchange.finish()
    }

    func fail(_ failure: TextGenerator.Failure) {
        guard started else { return OpenAIDialect.fail(exchange, failure) }
        // The status went out: the error is the stream's last event.
        exchange.send("data: \(OpenAIDialect.errorBody(failure).jsonText)\n\n")
        exchange.finish()
    }

    /// A choice carrying text: a chat's delta, or a completion's text.
    private func choice(text: String, finish: String?) -> JSONObject {
        let reason: JSONValue = finish.map(JSONValue.string) ?? .null
        return chat
            ? ["index": 0, "delta": ["content": .string(text)], "finish_reason": reason]
            : ["index": 0, "text": .string(text), "finish_reason": reason, "logprobs": nil]
    }

    private func envelope(choices: [JSONValue], usage: JSONValue?) -> JSONObject {
        var message: JSONObject = [
            "id": .string(id), "object": .string(object), "created": .int(created), "model": .string(model),
            "choices": .array(choices),
        ]
        if let usage { message["usage"] = usage }
        return message
    }

    private func event(_ choice: JSONObject) { send(envelope(choices: [.object(choice)], usage: nil)) }

    private func send(_ message: JSONObject) { exchange.send("data: \(JSONValue.object(message).jsonText)\n\n") }
}
