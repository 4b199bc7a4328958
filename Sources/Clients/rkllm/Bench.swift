import BindingRuntime
import Foundation
import RKClient

/// `rkllm bench MODEL`: time to first token and tokens/s as a client sees them, beside the
/// runtime's own figures.
enum Bench {
    static let command = Subcommand(
        name: "bench", synopsis: "MODEL",
        summary: "time to first token and tokens/s of a language model, through the daemon",
        options: [
            .value("prompt", "TEXT", "the prompt of every run (default: a short question)"),
            .value("runs", "N", "how many runs (default 5)"),
        ] + LanguageModel.options.filter { $0.name == "param" }, run: run)

    struct Run {
        /// From sending the run to its first piece of text.
        var firstToken: Double
        /// Pieces after the first, per second of the time between the first and the last.
        var tokensPerSecond: Double
        var perf: JSONValue?
    }

    static func run(_ invocation: Invocation) async throws {
        let model = try invocation.positional(0, "the model (a name from `rkllm models`, or a path)")
        let prompt = invocation.arguments.value("prompt") ?? "What is a neural processing unit?"
        let count = try invocation.arguments.int("runs") ?? 5
        guard count > 0 else { throw CommandFailure("--runs takes a positive number", .usage) }
        let clock = ContinuousClock()
        let loadStart = clock.now
        let llm = try await LanguageModel.load(model, invocation)
        Console.line(String(format: "load: %.1f ms", milliseconds(clock.now - loadStart)))
        var runs: [Run] = []
        for index in 1...count {
            let run = try await measure(llm, prompt, clock)
            runs.append(run)
            let own = run.perf.map { LanguageModel.timings($0) } ?? ""
            Console.line(
                String(
                    format: "run %d: first token %.1f ms, %.1f tokens/s; ", index, run.firstToken, run.tokensPerSecond)
                    + "the runtime's own: \(own)")
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        Console.line(
            String(
                format: "median of %d runs: first token %.1f ms, %.1f tokens/s", count,
                median(runs.map(\.firstToken)), median(runs.map(\.tokensPerSecond))))
        try await llm.close()
    }

    private static func measure(_ llm: LLM, _ prompt: String, _ clock: ContinuousClock) async throws -> Run {
        let start = clock.now
        var first: ContinuousClock.Instant?
        var last = start
        var pieces = 0
        var final: JSONValue = .null
        for try await message in llm.run(prompt: prompt) {
            if let text = message.text, !text.isEmpty {
                last = clock.now
                first = first ?? last
                pieces += 1
            }
            final = message
        }
        if final[StreamMember.ended]?.stringValue == StreamEnding.error.name {
            throw CommandFailure("the run failed: \(final["meaning"]?.stringValue ?? final.jsonText)", .failed)
        }
        guard let first else { throw CommandFailure("the model answered no text", .failed) }
        let span = milliseconds(last - first)
        return Run(
            firstToken: milliseconds(first - start), tokensPerSecond: span > 0 ? Double(pieces - 1) * 1000 / span : 0,
            perf: final["perf"])
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
