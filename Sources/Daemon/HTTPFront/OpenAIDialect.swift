import BindingRuntime
import Foundation

/// OpenAI's API over a text-generating runtime: `GET /v1/models`, `POST /v1/chat/completions`,
/// `POST /v1/completions`, streamed as server-sent events ending with `[DONE]`, errors in
/// OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`).
public enum OpenAIDialect {
    public static func routes(_ generator: TextGenerator) -> [HTTPRoute] {
        [
            HTTPRoute("GET", "/v1/models") { models(generator, $0) },
            HTTPRoute("POST", "/v1/chat/completions") { complete(generator, $0, chat: true) },
            HTTPRoute("POST", "/v1/completions") { complete(generator, $0, chat: false) },
        ]
    }

    private static func models(_ generator: TextGenerator, _ exchange: HTTPExchange) {
        generator.models(exchange) { found in
            switch found {
            case .failure(let error): fail(exchange, .from(error))
            case .success(let files):
                let data: [JSONValue] = files.map {
                    ["id": $0["name"] ?? .null, "object": "model", "created": 0, "owned_by": "rkllm-server"]
                }
                exchange.respond(status: 200, json: ["object": "list", "data": .array(data)])
            }
        }
    }

    private static func complete(_ generator: TextGenerator, _ exchange: HTTPExchange, chat: Bool) {
        guard let body = try? JSONParser.parse(exchange.request?.body ?? []), case .object = body else {
            return fail(
                exchange, .init(status: 400, message: "the body must be a JSON object", kind: "invalid_request_error"))
        }
        guard case .string(let model)? = body["model"] else {
            return fail(exchange, .init(status: 400, message: "'model' is required", kind: "invalid_request_error"))
        }
        var request = TextGenerator.Request(model: model, prompt: "")
        do throws(ChatPrompt.Failure) {
            if chat {
                (request.prompt, request.role) = try ChatPrompt.compose(body["messages"])
            } else {
                guard case .string(let prompt)? = body["prompt"] else {
                    throw ChatPrompt.Failure(message: "'prompt' must be a string")
                }
                request.prompt = prompt
            }
            request.maxTokens = try Fields.int(body["max_completion_tokens"] ?? body["max_tokens"], "max_tokens")
            request.temperature = try Fields.number(body["temperature"], "temperature")
            request.topP = try Fields.number(body["top_p"], "top_p")
            request.topK = try Fields.int(body["top_k"], "top_k")
            request.stop = try Fields.strings(body["stop"], "stop")
            if let n = try Fields.int(body["n"], "n"), n != 1 {
                throw ChatPrompt.Failure(message: "'n' other than 1 is not served: one choice per request")
            }
            if case .array(let tools)? = body["tools"], !tools.isEmpty { request.tools = .array(tools) }
        } catch {
            return fail(exchange, .init(status: 400, message: error.message, kind: "invalid_request_error"))
        }
        let stream = body["stream"] == .bool(true)
        let includeUsage = body["stream_options"]?["include_usage"] == .bool(true)
        let id = "\(chat ? "chatcmpl" : "cmpl")-\(UInt64.random(in: 1...UInt64.max))"
        let created = Int64(Date().timeIntervalSince1970)
        let object = chat ? (stream ? "chat.completion.chunk" : "chat.completion") : "text_completion"
        // With tools the answer may be a call: it is known only at the end, so it is not streamed piece by piece.
        let pieceByPiece = stream && request.tools == nil
        var started = false
        func chunk(_ choice: JSONObject, usage: JSONValue? = nil) {
            var message: JSONObject = [
                "id": .string(id), "object": .string(object), "created": .int(created), "model": .string(model),
            ]
            message["choices"] = .array(choice.pairs.isEmpty ? [] : [.object(choice)])
            if let usage { message["usage"] = usage }
            exchange.send("data: \(JSONValue.object(message).jsonText)\n\n")
        }
        func begin() {
            guard stream, !started else { return }
            started = true
            exchange.startStream(status: 200, contentType: "text/event-stream")
            if chat { chunk(["index": 0, "delta": ["role": "assistant", "content": ""], "finish_reason": nil]) }
        }
        generator.run(
            request, on: exchange,
            events: { event in
                switch event {
                case .loading, .queued: begin()
                case .text(let text):
                    guard pieceByPiece else { return }
                    begin()
                    chunk(
                        chat
                            ? ["index": 0, "delta": ["content": .string(text)], "finish_reason": nil]
                            : ["index": 0, "text": .string(text), "finish_reason": nil, "logprobs": nil])
                case .done(let outcome):
                    let usage: JSONValue = [
                        "prompt_tokens": .int(Int64(outcome.promptTokens)),
                        "completion_tokens": .int(Int64(outcome.completionTokens)),
                        "total_tokens": .int(Int64(outcome.promptTokens + outcome.completionTokens)),
                    ]
                    let calls = toolCalls(outcome.toolCalls)
                    if stream {
                        begin()
                        if !pieceByPiece {
                            var delta: JSONObject = [:]
                            if calls.isEmpty {
                                delta["content"] = .string(outcome.text)
                            } else {
                                delta["tool_calls"] = .array(
                                    calls.enumerated().map { i, call in
                                        var indexed = call
                                        if case .object(var o) = call {
                                            o["index"] = .int(Int64(i))
                                            indexed = .object(o)
                                        }
                                        return indexed
                                    })
                            }
                            chunk(
                                chat
                                    ? ["index": 0, "delta": .object(delta), "finish_reason": nil]
                                    : [
                                        "index": 0, "text": .string(outcome.text), "finish_reason": nil,
                                        "logprobs": nil,
                                    ])
                        }
                        chunk(
                            chat
                                ? ["index": 0, "delta": [:], "finish_reason": .string(outcome.finishReason)]
                                : [
                                    "index": 0, "text": "", "finish_reason": .string(outcome.finishReason),
                                    "logprobs": nil,
                                ])
                        if includeUsage { chunk([:], usage: usage) }
                        exchange.send("data: [DONE]\n\n")
                        return exchange.finish()
                    }
                    var message: JSONObject = [
                        "role": "assistant", "content": calls.isEmpty ? .string(outcome.text) : .null,
                    ]
                    if !calls.isEmpty { message["tool_calls"] = .array(calls) }
                    let choice: JSONValue =
                        chat
                        ? [
                            "index": 0, "message": .object(message), "finish_reason": .string(outcome.finishReason),
                            "logprobs": nil,
                        ]
                        : [
                            "index": 0, "text": .string(outcome.text), "finish_reason": .string(outcome.finishReason),
                            "logprobs": nil,
                        ]
                    exchange.respond(
                        status: 200,
                        json: [
                            "id": .string(id), "object": .string(object), "created": .int(created),
                            "model": .string(model),
                            "choices": [choice], "usage": usage,
                        ])
                }
            },
            failure: { failure in
                if started {
                    // The status went out: the error is the stream's last event.
                    exchange.send("data: \(errorBody(failure).jsonText)\n\n")
                    return exchange.finish()
                }
                fail(exchange, failure)
            })
    }

    /// The model's calls in OpenAI's shape: arguments as JSON text.
    private static func toolCalls(_ calls: [JSONValue]) -> [JSONValue] {
        calls.enumerated().map { index, call in
            let arguments =
                call["arguments"].map { if case .string(let text) = $0 { text } else { $0.jsonText } } ?? "{}"
            return [
                "id": .string("call_\(index)_\(UInt32.random(in: 1...UInt32.max))"), "type": "function",
                "function": ["name": call["name"] ?? .null, "arguments": .string(arguments)],
            ]
        }
    }

    private static func errorBody(_ failure: TextGenerator.Failure) -> JSONValue {
        let type =
            failure.status == 404
            ? "invalid_request_error" : failure.kind == "model_not_found" ? "invalid_request_error" : failure.kind
        return [
            "error": [
                "message": .string(failure.message), "type": .string(type), "param": nil, "code": .string(failure.kind),
            ]
        ]
    }

    private static func fail(_ exchange: HTTPExchange, _ failure: TextGenerator.Failure) {
        exchange.respond(status: failure.status, json: errorBody(failure))
    }
}

/// A request body's optional fields, checked.
enum Fields {
    static func int(_ value: JSONValue?, _ name: String) throws(ChatPrompt.Failure) -> Int? {
        switch value {
        case nil, .null?: return nil
        case .int(let n)?: return Int(n)
        case .double(let d)? where d == d.rounded(): return Int(d)
        default: throw ChatPrompt.Failure(message: "'\(name)' must be a whole number")
        }
    }

    static func number(_ value: JSONValue?, _ name: String) throws(ChatPrompt.Failure) -> Double? {
        switch value {
        case nil, .null?: return nil
        case .int(let n)?: return Double(n)
        case .double(let d)?: return d
        default: throw ChatPrompt.Failure(message: "'\(name)' must be a number")
        }
    }

    static func strings(_ value: JSONValue?, _ name: String) throws(ChatPrompt.Failure) -> [String] {
        switch value {
        case nil, .null?: return []
        case .string(let s)?: return [s]
        case .array(let items)?:
            return try items.map { item throws(ChatPrompt.Failure) in
                guard case .string(let s) = item else { throw ChatPrompt.Failure(message: "'\(name)' must be text") }
                return s
            }
        default: throw ChatPrompt.Failure(message: "'\(name)' must be text or a list of text")
        }
    }
}
