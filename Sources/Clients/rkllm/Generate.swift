import Foundation

/// `rkllm generate MODEL [PROMPT...]`: one answer, for scripts.
enum Generate {
    static let command = Subcommand(
        name: "generate", synopsis: "MODEL [PROMPT...]",
        summary: "answer one prompt (the words after the model, else standard input) and exit",
        options: LanguageModel.options, run: run)

    static func run(_ invocation: Invocation) async throws {
        let model = try invocation.positional(0, "the model (a name from `rkllm models`, or a path)")
        let words = invocation.arguments.positional.dropFirst()
        let prompt = words.isEmpty ? StandardInput.all() : words.joined(separator: " ")
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CommandFailure("no prompt: give it after the model or on standard input", .usage)
        }
        let llm = try await LanguageModel.load(model, invocation)
        let verbose = invocation.arguments.flag("verbose")
        if case .stopped = try await LanguageModel.answer(llm, prompt, keepHistory: false, verbose: verbose) {
            throw CommandFailure("stopped", .interrupted)
        }
    }
}
