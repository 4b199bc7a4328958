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
        let reader = { (body: JSONValue) throws(ChatPrompt.Failure) in try Self.request(body, chat: chat) }
        generator.serve(exchange, reader: reader, fail: fail) { body, request in
            OpenAICompletion(
                exchange: exchange, model: request.model, chat: chat, stream: body["stream"] == .bool(true),
                includeUsage: body["stream_options"]?["include_usage"] == .bool(true),
                // With tools the answer may be a call, known only at the end: it is not streamed piece by piece.
                pieceByPiece: request.tools == nil)
        }
    }

    /// What a request body asks for; a field of the wrong kind is a failure naming it.
    static func request(_ body: JSONValue, chat: Bool) throws(ChatPrompt.Failure) -> TextGenerator.Request {
        guard case .string(let model)? = body["model"] else { throw ChatPrompt.Failure(message: "'model' is required") }
        var request = TextGenerator.Request(model: model, prompt: "")
        if chat {
            (request.prompt, request.role) = try ChatPrompt.compose(body["messages"])
        } else {
            guard case .string(let prompt)? = body["prompt"] else {
                throw ChatPrompt.Failure(message: "'prompt' must be a string")
            }
            request.prompt = prompt
        }
        request.maxTokens = try Fields.int(body["max_completion_tokens"] ?? body["max_tokens"], "max_tokens")
        request.temperature = try Fields.number(body["temperature"], "temperature", in: 0...2)
        request.topP = try Fields.number(body["top_p"], "top_p", in: 0...1)
        request.topK = try Fields.int(body["top_k"], "top_k")
        request.stop = try Fields.strings(body["stop"], "stop")
        if let n = try Fields.int(body["n"], "n", in: Int.min...Int.max), n != 1 {
            throw ChatPrompt.Failure(message: "'n' other than 1 is not served: one choice per request")
        }
        if case .array(let tools)? = body["tools"], !tools.isEmpty { request.tools = .array(tools) }
        return request
    }

    /// The model's calls in OpenAI's shape: arguments as JSON text.
    static func toolCalls(_ calls: [JSONValue]) -> [JSONValue] {
        calls.enumerated().map { index, call in
            let arguments =
                call["arguments"].map { if case .string(let text) = $0 { text } else { $0.jsonText } } ?? "{}"
            return [
                "id": .string("call_\(index)_\(UInt32.random(in: 1...UInt32.max))"), "type": "function",
                "function": ["name": call["name"] ?? .null, "arguments": .string(arguments)],
            ]
        }
    }

    static func errorBody(_ failure: TextGenerator.Failure) -> JSONValue {
        let type =
            failure.status == 404
            ? "invalid_request_error" : failure.kind == "model_not_found" ? "invalid_request_error" : failure.kind
        return [
            "error": [
                "message": .string(failure.message), "type": .string(type), "param": nil, "code": .string(failure.kind),
            ]
        ]
    }

    static func fail(_ exchange: HTTPExchange, _ failure: TextGenerator.Failure) {
        exchange.respond(status: failure.status, json: errorBody(failure))
    }
}

/// A request body's optional fields, checked (numbers through `CheckedNumbers`: a value out of
/// range is a 400 naming the field and the range).
enum Fields {
    /// The counts a runtime takes (tokens, top-k) are 32-bit in C.
    static let count = 0...Int(Int32.max)

    static func int(_ value: JSONValue?, _ name: String, in range: ClosedRange<Int> = count) throws(ChatPrompt.Failure)
        -> Int?
    {
        do { return try CheckedNumbers.integer(value, name, in: range) } catch { throw ChatPrompt.Failure(error) }
    }

    static func number(_ value: JSONValue?, _ name: String, in range: ClosedRange<Double>) throws(ChatPrompt.Failure)
        -> Double?
    {
        do { return try CheckedNumbers.real(value, name, in: range) } catch { throw ChatPrompt.Failure(error) }
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
