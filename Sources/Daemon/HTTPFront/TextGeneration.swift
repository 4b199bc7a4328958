import BindingRuntime
import Foundation
import RPCServer

/// A runtime that generates text, as the HTTP dialects use it: its generation profile (from its
/// annotations), its namespace and ABI. `serve` is every dialect's one generation path: the
/// dialect reads the body into a request and makes its responder, a `Generation` runs it.
public struct TextGenerator: Sendable {
    public let namespace: String
    public let abi: String?
    public let profile: GenerationProfile
    /// Creating method -> destroying method (the manifest's).
    let destroyMethods: [String: String]

    public init(namespace: String, abi: String?, profile: GenerationProfile, destroyMethods: [String: String]) {
        self.namespace = namespace
        self.abi = abi
        self.profile = profile
        self.destroyMethods = destroyMethods
    }

    /// What a dialect asks for.
    struct Request {
        var model: String
        var prompt: String
        var role = "user"
        var maxTokens: Int?
        var temperature: Double?
        var topP: Double?
        var topK: Int?
        var stop: [String] = []
        /// The tools' JSON (OpenAI's list of function tools).
        var tools: JSONValue?
        /// Seconds the model stays loaded once no one holds it (negative: until the daemon
        /// stops); nil: the daemon's keep-alive.
        var keepAlive: Double?
        /// Only load the model (and keep it for `keepAlive`): no prompt runs.
        var loadOnly = false
    }

    struct Outcome {
        /// `stop`, `length`, `tool_calls`, or `load` when only the model was loaded.
        var finishReason = "stop"
        var text = ""
        var promptTokens = 0
        var completionTokens = 0
        /// `{"name": ..., "arguments": {...}}` each.
        var toolCalls: [JSONValue] = []
    }

    /// Why a request was not answered, with the HTTP status that says so.
    struct Failure: Error {
        var status: Int
        var message: String
        /// `model_not_found`, `invalid_request_error`, `rate_limit_exceeded`, `server_error`.
        var kind: String

        static func from(_ error: RPCError) -> Failure {
            let codes = RPCError.Code.self
            switch error.code {
            case codes.invalidParams: return Failure(status: 400, message: error.message, kind: "invalid_request_error")
            case codes.queueFull, codes.limitExceeded, codes.handleBusy:
                return Failure(status: 429, message: error.message, kind: "rate_limit_exceeded")
            case codes.runtimeNotAvailable, codes.shuttingDown, codes.tooManyConnections, codes.runtimeCrashed:
                return Failure(status: 503, message: error.message, kind: "server_error")
            default:
                let meaning = error.data?["meaning"].flatMap { if case .string(let m) = $0 { m } else { nil } }
                return Failure(
                    status: 500, message: error.message + (meaning.map { ": \($0)" } ?? ""), kind: "server_error")
            }
        }
    }

    /// The settings a request gives that this runtime takes nowhere per request (the first one).
    func settingNotTaken(_ request: Request) -> String? {
        let given: [(String, Bool)] = [
            ("temperature", request.temperature != nil), ("top_p", request.topP != nil), ("top_k", request.topK != nil),
        ]
        return given.first { name, isGiven in
            isGiven && !profile.run.takes("$" + name) && !profile.load.takes("$" + name)
        }?.0
    }

    /// The models of this runtime on disk (`server.models`' files).
    func models(_ exchange: HTTPExchange, _ answer: @escaping (Result<[JSONValue], RPCError>) -> Void) {
        exchange.call("server.models", nil) { outcome in
            answer(
                outcome.map {
                    ($0["files"].flatMap { if case .array(let a) = $0 { a } else { nil } } ?? []).filter {
                        $0["runtime"] == .string(namespace)
                    }
                })
        }
    }

    /// The model file a request names: by name or path, Ollama's default tag (`demo:latest`) allowed.
    static func file(named model: String, in files: [JSONValue]) -> JSONValue? {
        let name = model.hasSuffix(":latest") ? String(model.dropLast(7)) : model
        return files.first { $0["name"] == .string(name) || $0["path"] == .string(name) }
    }

    /// Every dialect's generation: the body read into a request by `reader` (a 400 through `fail`
    /// when it cannot be), the dialect's responder made for them, the generation run.
    func serve(
        _ exchange: HTTPExchange, reader: (JSONValue) throws(ChatPrompt.Failure) -> Request,
        fail: (HTTPExchange, Failure) -> Void, responder: (JSONValue, Request) -> GenerationResponder
    ) {
        switch Self.read(exchange, reader) {
        case .success(let read):
            Generation(self, request: read.request, on: exchange, responder: responder(read.body, read.request)).start()
        case .failure(let failure):
            fail(exchange, failure)
        }
    }

    /// A generation request's JSON body as a dialect reads it (`reader`): the body and the request,
    /// or the 400 that says why not.
    static func read(_ exchange: HTTPExchange, _ reader: (JSONValue) throws(ChatPrompt.Failure) -> Request)
        -> Result<(body: JSONValue, request: Request), Failure>
    {
        read(exchange.request?.body ?? [], reader)
    }

    /// A body's bytes as a dialect reads them: a JSON object, then the dialect's request.
    static func read(_ bytes: [UInt8], _ reader: (JSONValue) throws(ChatPrompt.Failure) -> Request)
        -> Result<(body: JSONValue, request: Request), Failure>
    {
        guard let body = try? JSONParser.parse(bytes), case .object = body else {
            return .failure(
                Failure(status: 400, message: "the body must be a JSON object", kind: "invalid_request_error"))
        }
        do throws(ChatPrompt.Failure) {
            return .success((body, try reader(body)))
        } catch {
            return .failure(Failure(status: 400, message: error.message, kind: "invalid_request_error"))
        }
    }

    /// Why `request` cannot run here (a setting this runtime takes nowhere per request), or nil.
    func refusal(of request: Request) -> Failure? {
        guard let setting = settingNotTaken(request) else { return nil }
        return Failure(
            status: 400,
            message: "this runtime (\(namespace)\(abi.map { " ABI \($0)" } ?? "")) takes no '\(setting)' per request",
            kind: "invalid_request_error")
    }

    /// Why a run's answer is no generation: it failed (but for the cancel that kept the request's
    /// own limit), or its stream ended in an error. Nil for a generation.
    func failure(of outcome: Result<JSONValue, RPCError>, limits: RequestLimits) -> Failure? {
        switch outcome {
        case .failure(let error) where !(limits.reached && error.code == RPCError.Code.cancelled):
            return .from(error)
        case .success(let final) where final[StreamMember.ended] == .string(StreamEnding.error.name):
            return Failure(
                status: 500, message: "the run failed: \(final["meaning"].map(\.jsonText) ?? final.jsonText)",
                kind: "server_error")
        default:
            return nil
        }
    }

    /// What a generation gave: its text, its counts (the runtime's where the profile finds them),
    /// why it ended and the tool calls in its text.
    func outcome(final: JSONValue, limits: RequestLimits) -> Outcome {
        var result = Outcome(text: limits.text)
        let count = { (path: String?) in
            path.flatMap { GenerationProfile.value(at: $0, of: final) }.flatMap {
                if case .int(let n) = $0 { Int(n) } else { nil }
            }
        }
        result.promptTokens = count(profile.promptTokens) ?? 0
        result.completionTokens = count(profile.completionTokens) ?? limits.pieces
        // The runtime's own limit (`max_tokens`), or the request's.
        if case .string(let name)? = final[StreamMember.ended], case .limit = StreamEnding(name: name) {
            result.finishReason = "length"
        }
        if limits.lengthReached { result.finishReason = "length" }
        result.toolCalls = toolCalls(in: limits.text)
        if !result.toolCalls.isEmpty { result.finishReason = "tool_calls" }
        return result
    }

    /// What a request fills in the templates.
    func values(of request: Request) -> [String: JSONValue] {
        var values: [String: JSONValue] = [
            "$prompt": .string(request.prompt), "$role": .string(request.role), "$keep_history": 0,
        ]
        if let n = request.maxTokens { values["$max_tokens"] = .int(Int64(n)) }
        if let t = request.temperature { values["$temperature"] = .double(t) }
        if let p = request.topP { values["$top_p"] = .double(p) }
        if let k = request.topK { values["$top_k"] = .int(Int64(k)) }
        return values
    }

    /// The tool calls the output makes, between the profile's markers: `{"name", "arguments"}`.
    func toolCalls(in text: String) -> [JSONValue] {
        guard let begin = profile.toolCallBegin, let end = profile.toolCallEnd else { return [] }
        var calls: [JSONValue] = []
        var rest = text[...]
        while let open = rest.range(of: begin), let close = rest[open.upperBound...].range(of: end) {
            if let call = try? JSONParser.parse(Array(rest[open.upperBound..<close.lowerBound].utf8)),
                call["name"] != nil
            {
                calls.append(call)
            }
            rest = rest[close.upperBound...]
        }
        return calls
    }
}

/// A run's text against the request's own limits: pieces counted against max tokens (where the
/// runtime does not count them itself), stop sequences found across pieces (text that could begin
/// one is held back until it cannot).
final class RequestLimits {
    private let maxTokens: Int?
    private let stop: [String]
    private(set) var text = ""
    private var held = ""
    private(set) var pieces = 0
    private(set) var reached = false
    private(set) var lengthReached = false

    init(request: TextGenerator.Request, runTakesMaxTokens: Bool) {
        maxTokens = runTakesMaxTokens ? nil : request.maxTokens
        stop = request.stop.filter { !$0.isEmpty }
    }

    /// A piece: what may be handed out now, and whether the run should stop.
    func take(_ piece: String) -> (String, Bool) {
        pieces += 1
        held += piece
        if let hit = stop.compactMap({ held.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let out = String(held[..<hit.lowerBound])
            text += out
            held = ""
            reached = true
            return (out, true)
        }
        // Hold back the longest tail that begins a stop sequence.
        let keep =
            stop.map { s in (1..<max(1, s.count)).reversed().first { held.hasSuffix(s.prefix($0)) } ?? 0 }.max() ?? 0
        let out = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        text += out
        if let maxTokens, pieces >= maxTokens {
            reached = true
            lengthReached = true
            return (out + flushHeld(), true)
        }
        return (out, false)
    }

    /// What is held back, once the run is over.
    func flush() -> String? { held.isEmpty ? nil : flushHeld() }

    private func flushHeld() -> String {
        let out = held
        held = ""
        text += out
        return out
    }
}
