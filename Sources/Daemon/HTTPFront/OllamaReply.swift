import BindingRuntime
import Foundation

/// One `/api/chat` or `/api/generate` reply in Ollama's shapes: a whole object, or NDJSON lines
/// (a piece of text each, then the last with `done`, the reason and the counts). Loop thread only.
final class OllamaReply: GenerationResponder {
    private let exchange: HTTPExchange
    private let model: String
    private let chat: Bool
    private let stream: Bool
    private let pieceByPiece: Bool
    private let started = Date()
    private var streaming = false

    init(exchange: HTTPExchange, model: String, chat: Bool, stream: Bool, pieceByPiece: Bool) {
        self.exchange = exchange
        self.model = model
        self.chat = chat
        self.stream = stream
        self.pieceByPiece = stream && pieceByPiece
    }

    /// A streamed reply starts (as soon as the model loads or the run waits).
    func begin(loading seconds: Double? = nil) {
        guard stream, !streaming else { return }
        streaming = true
        exchange.startStream(status: 200, contentType: "application/x-ndjson")
    }

    func piece(_ text: String) {
        guard pieceByPiece else { return }
        begin()
        send(chat ? ["message": message(text), "done": false] : ["response": .string(text), "done": false])
    }

    func finish(_ outcome: TextGenerator.Outcome) {
        var last: JSONObject = [
            "done": true,
            "done_reason": .string(["length", "load"].contains(outcome.finishReason) ? outcome.finishReason : "stop"),
            "total_duration": .int(Int64(clamping: CheckedNumbers.nanoseconds(Date().timeIntervalSince(started)))),
            "prompt_eval_count": .int(Int64(outcome.promptTokens)), "eval_count": .int(Int64(outcome.completionTokens)),
        ]
        // What was not streamed piece by piece comes whole in the last object.
        let rest = pieceByPiece ? "" : outcome.text
        if chat {
            var reply = message(outcome.toolCalls.isEmpty ? rest : "")
            if !outcome.toolCalls.isEmpty, case .object(var members) = reply {
                members["tool_calls"] = .array(
                    outcome.toolCalls.map {
                        ["function": ["name": $0["name"] ?? .null, "arguments": $0["arguments"] ?? [:]]]
                    })
                reply = .object(members)
            }
            last["message"] = reply
        } else {
            last["response"] = .string(rest)
        }
        guard stream else { return exchange.respond(status: 200, json: line(last)) }
        begin()
        send(last)
        exchange.finish()
    }

    func fail(_ failure: TextGenerator.Failure) {
        guard streaming else { return OllamaDialect.fail(exchange, failure) }
        OllamaDialect.endStream(exchange, failing: failure)
    }

    private func message(_ text: String) -> JSONValue { ["role": "assistant", "content": .string(text)] }

    private func line(_ fields: JSONObject) -> JSONValue {
        var object: JSONObject = ["model": .string(model), "created_at": .string(Timestamp.now())]
        for (key, value) in fields.pairs { object[key] = value }
        return .object(object)
    }

    private func send(_ fields: JSONObject) { exchange.send(line(fields).jsonText + "\n") }
}

/// `/api/pull`'s reply in Ollama's shape: `{"status": ...}` lines while the model loads (its
/// seconds so far), then `success`; or the one `success` object. Loop thread only.
final class OllamaPullReply: GenerationResponder {
    private let exchange: HTTPExchange
    private let model: String
    private let stream: Bool
    private var started = false

    init(exchange: HTTPExchange, model: String, stream: Bool) {
        self.exchange = exchange
        self.model = model
        self.stream = stream
    }

    func begin(loading seconds: Double?) {
        guard stream, let seconds else { return }
        start()
        send("loading \(model): \(CheckedNumbers.wholePart(seconds)) s")
    }

    func piece(_ text: String) {}

    func finish(_ outcome: TextGenerator.Outcome) {
        guard stream else { return exchange.respond(status: 200, json: ["status": "success"]) }
        start()
        send("success")
        exchange.finish()
    }

    func fail(_ failure: TextGenerator.Failure) {
        guard started else { return OllamaDialect.fail(exchange, failure) }
        OllamaDialect.endStream(exchange, failing: failure)
    }

    private func start() {
        guard !started else { return }
        started = true
        exchange.startStream(status: 200, contentType: "application/x-ndjson")
        send("loading \(model)")
    }

    private func send(_ status: String) { exchange.send(JSONValue.object(["status": .string(status)]).jsonText + "\n") }
}
