import BindingRuntime
import Foundation

/// Ollama's API over a text-generating runtime: `/api/chat` and `/api/generate` (streamed as
/// NDJSON unless `"stream": false`), `/api/tags`, `/api/ps`, `/api/show`, `/api/version`,
/// `/api/pull` (loads a model, with its progress); errors as `{"error": message}`.
public enum OllamaDialect {
    public static func routes(_ generator: TextGenerator, version: String) -> [HTTPRoute] {
        [
            HTTPRoute("GET", "/api/version") { $0.respond(status: 200, json: ["version": .string(version)]) },
            HTTPRoute("GET", "/api/tags") { tags(generator, $0) },
            HTTPRoute("GET", "/api/ps") { loaded(generator, $0) },
            HTTPRoute("POST", "/api/show") { show(generator, $0) },
            HTTPRoute("POST", "/api/chat") { generate(generator, $0, chat: true) },
            HTTPRoute("POST", "/api/generate") { generate(generator, $0, chat: false) },
            HTTPRoute("POST", "/api/pull") { pull(generator, $0) },
        ]
    }

    private static func details(_ generator: TextGenerator) -> JSONValue {
        [
            "format": .string(generator.namespace), "family": "", "families": nil, "parameter_size": "",
            "quantization_level": "",
        ]
    }

    private static func tags(_ generator: TextGenerator, _ exchange: HTTPExchange) {
        generator.models(exchange) { found in
            switch found {
            case .failure(let error): fail(exchange, .from(error))
            case .success(let files):
                let models: [JSONValue] = files.map {
                    [
                        "name": $0["name"] ?? .null, "model": $0["name"] ?? .null,
                        "modified_at": "1970-01-01T00:00:00Z",
                        "size": $0["size"] ?? 0, "digest": "", "details": details(generator),
                    ]
                }
                exchange.respond(status: 200, json: ["models": .array(models)])
            }
        }
    }

    private static func loaded(_ generator: TextGenerator, _ exchange: HTTPExchange) {
        exchange.call("server.models", nil) { outcome in
            switch outcome {
            case .failure(let error): fail(exchange, .from(error))
            case .success(let answer):
                let files: [JSONValue] = answer["files"].flatMap { if case .array(let a) = $0 { a } else { nil } } ?? []
                let objects: [JSONValue] =
                    answer["loaded"].flatMap { if case .array(let a) = $0 { a } else { nil } } ?? []
                var models: [JSONValue] = []
                for object in objects where object["runtime"] == .string(generator.namespace) {
                    // The file whose path is among the object's creating parameters.
                    guard let file = files.first(where: { $0["path"].map { mentions(object["params"], $0) } ?? false })
                    else { continue }
                    var expires = 365.0 * 24 * 3600  // held, or kept until the daemon stops: no end in sight
                    switch object["unloads_in_s"] {
                    case .double(let s)?: expires = s
                    case .int(let s)?: expires = Double(s)
                    default: break
                    }
                    models.append([
                        "name": file["name"] ?? .null, "model": file["name"] ?? .null, "size": file["size"] ?? 0,
                        "digest": "", "details": details(generator),
                        "expires_at": .string(Timestamp.now(after: expires)), "size_vram": 0,
                    ])
                }
                exchange.respond(status: 200, json: ["models": .array(models)])
            }
        }
    }

    /// Whether `value` holds `target` somewhere.
    private static func mentions(_ value: JSONValue?, _ target: JSONValue) -> Bool {
        switch value {
        case .array(let items)?: return items.contains { mentions($0, target) }
        case .object(let object)?: return object.pairs.contains { mentions($0.value, target) }
        case let leaf?: return leaf == target
        case nil: return false
        }
    }

    private static func show(_ generator: TextGenerator, _ exchange: HTTPExchange) {
        let body = try? JSONParser.parse(exchange.request?.body ?? [])
        guard case .string(let name)? = body?["model"] ?? body?["name"] else {
            return fail(exchange, .init(status: 400, message: "'model' is required", kind: "invalid_request_error"))
        }
        generator.models(exchange) { found in
            switch found {
            case .failure(let error): fail(exchange, .from(error))
            case .success(let files):
                guard let file = TextGenerator.file(named: name, in: files) else {
                    return fail(
                        exchange, .init(status: 404, message: "model '\(name)' not found", kind: "model_not_found"))
                }
                exchange.respond(
                    status: 200,
                    json: [
                        "modelfile": "", "parameters": "", "template": "", "details": details(generator),
                        "model_info": ["general.file": file["path"] ?? .null, "general.size": file["size"] ?? 0],
                        "capabilities": ["completion", "tools"],
                    ])
            }
        }
    }

    private static func generate(_ generator: TextGenerator, _ exchange: HTTPExchange, chat: Bool) {
        let reader = { (body: JSONValue) throws(ChatPrompt.Failure) in try Self.request(body, chat: chat) }
        generator.serve(exchange, reader: reader, fail: fail) { body, request in
            OllamaReply(
                exchange: exchange, model: request.model, chat: chat, stream: body["stream"] != .bool(false),
                // With tools the answer may be a call, known only at the end: it is not streamed piece by piece.
                pieceByPiece: request.tools == nil)
        }
    }

    /// `/api/pull`: the models are on disk already, so pulling one loads it, with its progress as
    /// Ollama's pull reports it (`{"status": ...}` lines, then `success`), and keeps it loaded.
    private static func pull(_ generator: TextGenerator, _ exchange: HTTPExchange) {
        let body = try? JSONParser.parse(exchange.request?.body ?? [])
        guard case .string(let model)? = body?["model"] ?? body?["name"] else {
            return fail(exchange, .init(status: 400, message: "'model' is required", kind: "invalid_request_error"))
        }
        var request = TextGenerator.Request(model: model, prompt: "")
        request.loadOnly = true
        let reply = OllamaPullReply(exchange: exchange, model: model, stream: body?["stream"] != .bool(false))
        Generation(generator, request: request, on: exchange, responder: reply).start()
    }

    /// What a request body asks for; a field of the wrong kind is a failure naming it.
    static func request(_ body: JSONValue, chat: Bool) throws(ChatPrompt.Failure) -> TextGenerator.Request {
        guard case .string(let model)? = body["model"] else { throw ChatPrompt.Failure(message: "'model' is required") }
        var request = TextGenerator.Request(model: model, prompt: "")
        if chat {
            (request.prompt, request.role) = try ChatPrompt.compose(body["messages"])
        } else {
            // No prompt: the model is loaded (and kept for keep_alive), Ollama's way to preload it.
            guard case .string(let prompt) = body["prompt"] ?? "" else {
                throw ChatPrompt.Failure(message: "'prompt' must be a string")
            }
            request.loadOnly = prompt.isEmpty
            var system = ""
            if case .string(let text)? = body["system"], !text.isEmpty { system = text + "\n\n" }
            request.prompt = system + prompt
        }
        let options = body["options"]
        // Ollama's -1 is "no limit" and -2 "until the context is full": the runtime's own limit.
        request.maxTokens = try Fields.int(options?["num_predict"], "num_predict", in: -2...Fields.count.upperBound)
            .flatMap { $0 < 0 ? nil : $0 }
        request.temperature = try Fields.number(options?["temperature"], "temperature", in: 0...100)
        request.topP = try Fields.number(options?["top_p"], "top_p", in: 0...1)
        request.topK = try Fields.int(options?["top_k"], "top_k")
        request.stop = try Fields.strings(options?["stop"], "stop")
        if case .array(let tools)? = body["tools"], !tools.isEmpty { request.tools = .array(tools) }
        request.keepAlive = try keepAlive(body["keep_alive"])
        return request
    }

    /// Ollama's `keep_alive`: seconds, or a duration (`"5m"`, `"30s"`, `"1h"`, `"-1"`), at most
    /// `CheckedNumbers.maxDurationSeconds`; negative keeps the model loaded, 0 unloads it after the
    /// request.
    static func keepAlive(_ value: JSONValue?) throws(ChatPrompt.Failure) -> Double? {
        var seconds = value
        if case .string(let text)? = value {
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
            if let unit = text.last.flatMap({ units[$0] }), let number = Double(text.dropLast()) {
                seconds = .double(number * unit)
            } else if let number = Double(text) {
                seconds = .double(number)
            } else {
                throw ChatPrompt.Failure(message: "'keep_alive' must be seconds or a duration like 5m")
            }
        }
        do {
            return try CheckedNumbers.seconds(seconds, "keep_alive", negativeMeansForever: true)
        } catch {
            throw ChatPrompt.Failure(error)
        }
    }

    /// A streamed reply that fails once its status went out: an `{"error": ...}` line ends it.
    static func endStream(_ exchange: HTTPExchange, failing failure: TextGenerator.Failure) {
        exchange.send(JSONValue.object(["error": .string(failure.message)]).jsonText + "\n")
        exchange.finish()
    }

    static func fail(_ exchange: HTTPExchange, _ failure: TextGenerator.Failure) {
        exchange.respond(status: failure.status, json: ["error": .string(failure.message)])
    }
}
