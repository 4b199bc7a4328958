import BindingRuntime
import RPCServer

/// A dialect's response to one generation, what the one generation path drives: it may begin
/// early (the model loads: seconds so far; or the run waits: nil), gets the text piece by piece,
/// then finishes or fails. Loop thread only.
protocol GenerationResponder: AnyObject {
    func begin(loading seconds: Double?)
    func piece(_ text: String)
    func finish(_ outcome: TextGenerator.Outcome)
    func fail(_ failure: TextGenerator.Failure)
}

/// One generation as an HTTP exchange's client, a step per method, each step's answer starting the
/// next: find the model among the runtime's files, load (or join) it, give it the tools, run the
/// prompt keeping the request's limits, let the model go (it stays loaded for the keep-alive).
/// Nothing more reaches the responder once the client has gone (the exchange's calls end).
final class Generation {
    private let generator: TextGenerator
    private let exchange: HTTPExchange
    private let request: TextGenerator.Request
    private let responder: GenerationResponder
    private var values: [String: JSONValue]
    private var profile: GenerationProfile { generator.profile }

    init(
        _ generator: TextGenerator, request: TextGenerator.Request, on exchange: HTTPExchange,
        responder: GenerationResponder
    ) {
        self.generator = generator
        self.request = request
        self.exchange = exchange
        self.responder = responder
        values = generator.values(of: request)
    }

    func start() {
        if let failure = generator.refusal(of: request) { return responder.fail(failure) }
        generator.models(exchange) { [self] found in
            switch found {
            case .success(let files): load(from: files)
            case .failure(let error): responder.fail(.from(error))
            }
        }
    }

    private func load(from files: [JSONValue]) {
        guard let file = TextGenerator.file(named: request.model, in: files), case .string(let path)? = file["path"]
        else {
            return responder.fail(
                .init(status: 404, message: "the model '\(request.model)' does not exist", kind: "model_not_found"))
        }
        values["$model"] = .string(path)
        exchange.call(
            profile.load.method, profile.load.params(values),
            messages: { [self] message in
                if case .double(let seconds)? = message[StreamMember.loading]?["elapsed_s"] {
                    responder.begin(loading: seconds)
                }
            },
            answer: { [self] outcome in loaded(outcome) })
    }

    private func loaded(_ outcome: Result<JSONValue, RPCError>) {
        let answer: JSONValue
        switch outcome {
        case .success(let loaded): answer = loaded
        case .failure(let error): return responder.fail(.from(error))
        }
        guard let handle = answer[profile.handle] else {
            return responder.fail(.init(status: 500, message: "the load answered no handle", kind: "server_error"))
        }
        values["$handle"] = handle
        if let seconds = request.keepAlive {
            exchange.call("server.keep_alive", ["handle": handle, "seconds": .double(seconds)]) { _ in }
        }
        if request.loadOnly {
            release()
            var loaded = TextGenerator.Outcome()
            loaded.finishReason = "load"
            return responder.finish(loaded)
        }
        guard let tools = request.tools, let step = profile.tools else { return run() }
        values["$tools"] = .string(tools.jsonText)
        exchange.call(step.method, step.params(values)) { [self] outcome in
            guard case .failure(let error) = outcome else { return run() }
            release()
            responder.fail(.from(error))
        }
    }

    /// The model's handle goes: it stays loaded for the keep-alive, or for its other users.
    private func release() {
        guard let handle = values["$handle"] else { return }
        _ = exchange.call(generator.destroyMethods[profile.load.method] ?? "", [handle]) { _ in }
    }

    private func run() {
        let limits = RequestLimits(request: request, runTakesMaxTokens: profile.run.takes("$max_tokens"))
        var runID: Int64 = 0
        runID = exchange.call(
            profile.run.method, profile.run.params(values),
            messages: { [self] message in
                if message[StreamMember.queuePosition] != nil { responder.begin(loading: nil) }
                guard !limits.reached, case .string(let text)? = GenerationProfile.value(at: profile.text, of: message),
                    !text.isEmpty
                else { return }
                let (out, reached) = limits.take(text)
                if !out.isEmpty { responder.piece(out) }
                // The request's own limit met: the run stops (its answer is the cancelled request's).
                if reached { _ = exchange.call("$/cancelRequest", ["id": .int(runID)]) { _ in } }
            },
            answer: { [self] outcome in
                release()
                if let failure = generator.failure(of: outcome, limits: limits) { return responder.fail(failure) }
                if let rest = limits.flush(), !rest.isEmpty { responder.piece(rest) }
                responder.finish(generator.outcome(final: (try? outcome.get()) ?? .null, limits: limits))
            })
    }
}
