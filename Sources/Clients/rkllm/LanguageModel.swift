import BindingRuntime
import Foundation
import RKClient

/// What the language-model subcommands share: the options that load a model, and an answer
/// printed as it streams.
enum LanguageModel {
    static let options: [Option] = [
        .values(
            "param", "KEY=VALUE",
            "an RKLLMParam member for the load, repeatable (--param max_new_tokens=256, --param extend_param.n_batch=1)"
        ),
        .flag("verbose", "after each answer, the runtime's token counts and times"),
    ]

    /// The model named by the command, loaded with its `--param`s, its progress shown.
    static func load(_ model: String, _ invocation: Invocation) async throws -> LLM {
        let params = try parameters(invocation.arguments.values("param"))
        let client = try invocation.connect()
        let progress = LoadingProgress(model: model)
        defer { progress.finish() }
        return try await LLM(model, client: client, params: params, loading: progress.report)
    }

    /// `KEY=VALUE` words as a JSON object: a dotted key nests, a value is a number when it reads as one.
    static func parameters(_ words: [String]) throws -> JSONObject {
        var params: JSONObject = [:]
        for word in words {
            guard let equals = word.firstIndex(of: "="), equals != word.startIndex else {
                throw CommandFailure("--param takes KEY=VALUE: \(word)", .usage)
            }
            let path = word[..<equals].split(separator: ".").map(String.init)
            let text = String(word[word.index(after: equals)...])
            let value: JSONValue = Int64(text).map(JSONValue.int) ?? Double(text).map(JSONValue.double) ?? .string(text)
            params = setting(params, path[...], to: value)
        }
        return params
    }

    private static func setting(_ object: JSONObject, _ path: ArraySlice<String>, to value: JSONValue) -> JSONObject {
        guard let key = path.first else { return object }
        var object = object
        if path.count == 1 {
            object[key] = value
        } else {
            guard case .object(let inner) = object[key] ?? .object([:]) else { return object }
            object[key] = .object(setting(inner, path.dropFirst(), to: value))
        }
        return object
    }

    /// How an answer ended.
    enum Ending {
        case finished(JSONValue)
        /// Ctrl-C stopped it.
        case stopped
    }

    /// Streams the answer to `prompt` to standard output as it comes; with `verbose`, the
    /// runtime's counts and times after it. Ctrl-C stops the answer (the run is cancelled).
    static func answer(_ llm: LLM, _ prompt: String, keepHistory: Bool, verbose: Bool) async throws -> Ending {
        let printing = Task {
            var last: JSONValue = .null
            for try await message in llm.run(prompt: prompt, keepHistory: keepHistory) {
                if let text = message.text { Console.out(text) }
                last = message
            }
            return last
        }
        let stopped = Stopped()
        let stop: @Sendable () -> Void = {
            stopped.set()
            printing.cancel()
        }
        let result = await Interrupts.shared.during(stop) { await printing.result }
        Console.line()
        if stopped.value {
            Console.note("(stopped)")
            return .stopped
        }
        let last = try result.get()
        if last[StreamMember.ended]?.stringValue == StreamEnding.error.name {
            let meaning = last["meaning"]?.stringValue.map { ": \($0)" } ?? ""
            throw CommandFailure("the answer failed with code \(last["code"]?.intValue ?? 0)\(meaning)", .failed)
        }
        if verbose { Console.note(timings(last["perf"])) }
        return .finished(last)
    }

    /// The runtime's own account of a run.
    static func timings(_ perf: JSONValue?) -> String {
        let number = { (key: String) in perf?[key]?.doubleValue ?? 0 }
        let rate = number("generate_time_ms") > 0 ? number("generate_tokens") * 1000 / number("generate_time_ms") : 0
        return String(
            format: "prefill %.0f tokens in %.1f ms, generated %.0f tokens in %.1f ms (%.1f tokens/s)",
            number("prefill_tokens"), number("prefill_time_ms"), number("generate_tokens"),
            number("generate_time_ms"), rate)
    }
}

/// A flag set from Ctrl-C's handler and read after.
final class Stopped: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    func set() { lock.withLock { stopped = true } }
    var value: Bool { lock.withLock { stopped } }
}
