import BindingRuntime
import Foundation
import RPCServer

/// A runtime that generates text, as the HTTP dialects use it: its generation profile (from its
/// annotations), its namespace and ABI. One `run` loads (or joins) the model as the request's
/// client, sets its tools, runs the prompt and hands out the text as it comes, keeping the
/// request's limits (max tokens, stop sequences) where the runtime does not; then lets the model
/// go (it stays loaded for the daemon's keep-alive).
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

    enum Event {
        /// The model is loading: seconds so far.
        case loading(Double)
        /// The run waits behind others: its place.
        case queued(Int)
        case text(String)
        case done(Outcome)
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

    /// Runs `request` as `exchange`'s client: `events` gets the load's progress, the text and
    /// the outcome; `failure` why it could not run. Nothing more comes once the client has gone.
    func run(
        _ request: Request, on exchange: HTTPExchange, events: @escaping (Event) -> Void,
        failure: @escaping (Failure) -> Void
    ) {
        if let setting = settingNotTaken(request) {
            return failure(
                Failure(
                    status: 400,
                    message:
                        "this runtime (\(namespace)\(abi.map { " ABI \($0)" } ?? "")) takes no '\(setting)' per request",
                    kind: "invalid_request_error"))
        }
        models(exchange) { found in
            let files: [JSONValue]
            switch found {
            case .success(let list): files = list
            case .failure(let error): return failure(.from(error))
            }
            guard let file = Self.file(named: request.model, in: files), case .string(let path)? = file["path"] else {
                return failure(
                    Failure(
                        status: 404, message: "the model '\(request.model)' does not exist", kind: "model_not_found"))
            }
            load(path, request, on: exchange, events: events, failure: failure)
        }
    }

    private func load(
        _ path: String, _ request: Request, on exchange: HTTPExchange, events: @escaping (Event) -> Void,
        failure: @escaping (Failure) -> Void
    ) {
        var values = self.values(of: request)
        values["$model"] = .string(path)
        exchange.call(
            profile.load.method, profile.load.params(values),
            messages: { message in
                if case .double(let seconds)? = message[StreamMember.loading]?["elapsed_s"] {
                    events(.loading(seconds))
                }
            },
            answer: { outcome in
                switch outcome {
                case .failure(let error): failure(.from(error))
                case .success(let answer):
                    guard let handle = answer[profile.handle] else {
                        return failure(
                            Failure(status: 500, message: "the load answered no handle", kind: "server_error"))
                    }
                    values["$handle"] = handle
                    let release = { _ = exchange.call(destroyMethods[profile.load.method] ?? "", [handle]) { _ in } }
                    if let seconds = request.keepAlive {
                        exchange.call("server.keep_alive", ["handle": handle, "seconds": .double(seconds)]) { _ in }
                    }
                    if request.loadOnly {
                        release()
                        var loaded = Outcome()
                        loaded.finishReason = "load"
                        return events(.done(loaded))
                    }
                    guard let tools = request.tools, let step = profile.tools else {
                        return generate(
                            values, request, on: exchange, events: events, failure: failure, release: release)
                    }
                    values["$tools"] = .string(tools.jsonText)
                    exchange.call(step.method, step.params(values)) { outcome in
                        if case .failure(let error) = outcome {
                            release()
                            return failure(.from(error))
                        }
                        generate(values, request, on: exchange, events: events, failure: failure, release: release)
                    }
                }
            })
    }

    private func generate(
        _ values: [String: JSONValue], _ request: Request, on exchange: HTTPExchange, events: @escaping (Event) -> Void,
        failure: @escaping (Failure) -> Void, release: @escaping () -> Void
    ) {
        let limits = RequestLimits(request: request, runTakesMaxTokens: profile.run.takes("$max_tokens"))
        var runID: Int64 = 0
        let stopRun = {
            _ = exchange.call("$/cancelRequest", ["id": .int(runID)]) { _ in }
        }
        runID = exchange.call(
            profile.run.method, profile.run.params(values),
            messages: { message in
                if case .int(let place)? = message[StreamMember.queuePosition] { events(.queued(Int(place))) }
                guard !limits.reached,
                    let text = GenerationProfile.value(at: profile.text, of: message).flatMap({
                        if case .string(let t) = $0 { t } else { nil }
                    }), !text.isEmpty
                else { return }
                let (out, reached) = limits.take(text)
                if !out.isEmpty { events(.text(out)) }
                if reached { stopRun() }
            },
            answer: { outcome in
                release()
                switch outcome {
                case .failure(let error) where !(limits.reached && error.code == RPCError.Code.cancelled):
                    return failure(.from(error))
                case .success(let final) where final[StreamMember.ended] == .string(StreamEnding.error.name):
                    return failure(
                        Failure(
                            status: 500,
                            message: "the run failed: \(final["meaning"].map(\.jsonText) ?? final.jsonText)",
                            kind: "server_error"))
                default: break
                }
                if let rest = limits.flush(), !rest.isEmpty { events(.text(rest)) }
                let final = (try? outcome.get()) ?? .null
                var result = Outcome(text: limits.text)
                let count = { (path: String?) in
                    path.flatMap { GenerationProfile.value(at: $0, of: final) }.flatMap {
                        if case .int(let n) = $0 { Int(n) } else { nil }
                    }
                }
                result.promptTokens = count(profile.promptTokens) ?? 0
                result.completionTokens = count(profile.completionTokens) ?? limits.pieces
                if case .string(let name)? = final[StreamMember.ended], case .limit = StreamEnding(name: name) {
                    result.finishReason = "length"  // the runtime's own limit (`max_tokens`)
                }
                if limits.lengthReached { result.finishReason = "length" }
                result.toolCalls = toolCalls(in: limits.text)
                if !result.toolCalls.isEmpty { result.finishReason = "tool_calls" }
                events(.done(result))
            })
    }

    /// What a request fills in the templates.
    private func values(of request: Request) -> [String: JSONValue] {
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
