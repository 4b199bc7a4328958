import BindingRuntime
import Foundation
import RKClient

/// `rkllm chat MODEL`: a conversation kept in the model's KV cache while the command runs.
enum Chat {
    static let command = Subcommand(
        name: "chat", synopsis: "MODEL",
        summary: "talk with a language model (answers stream; Ctrl-C stops one; /help lists the chat's commands)",
        options: [
            .value("system", "TEXT", "the system prompt (needs the model's template: --prefix and --postfix)"),
            .value("prefix", "TEXT", "the model's template: what goes before each prompt (\\n: a new line)"),
            .value("postfix", "TEXT", "the model's template: what goes after each prompt"),
        ] + LanguageModel.options, run: run)

    static let help = """
        /reset        start a new conversation
        /system TEXT  a new system prompt, and a new conversation (needs --prefix and --postfix)
        /bye          leave (as does Ctrl-D)
        Ctrl-C stops an answer.
        """

    static func run(_ invocation: Invocation) async throws {
        let model = try invocation.positional(0, "the model (a name from `rkllm models`, or a path)")
        let arguments = invocation.arguments
        var template: (prefix: String, postfix: String)?
        switch (arguments.value("prefix"), arguments.value("postfix")) {
        case (let prefix?, let postfix?): template = (unescaped(prefix), unescaped(postfix))
        case (nil, nil): template = nil
        default: throw CommandFailure("--prefix and --postfix go together", .usage)
        }
        let session = Session(
            llm: try await LanguageModel.load(model, invocation), template: template, verbose: arguments.flag("verbose")
        )
        if let system = arguments.value("system") { try await session.setSystemPrompt(unescaped(system)) }
        let interactive = Console.inputIsTerminal
        if interactive {
            Console.note("Talking with \(model). /help for the chat's commands, Ctrl-D or /bye to leave.")
        }
        let showPrompt: @Sendable () -> Void = { if interactive { Console.out(">>> ") } }
        let hint: @Sendable () -> Void = {
            Console.note("\n(Ctrl-D or /bye to leave)")
            showPrompt()
        }
        try await Interrupts.shared.during(hint) {
            showPrompt()
            for await line in StandardInput.lines() {
                guard try await session.take(line.trimmingCharacters(in: .whitespaces)) else { break }
                showPrompt()
            }
        }
    }

    /// `\n`, `\t` and `\\` in a command-line text, as the characters they name.
    static func unescaped(_ text: String) -> String {
        var result = ""
        var escaping = false
        for character in text {
            if escaping {
                result +=
                    character == "n" ? "\n" : character == "t" ? "\t" : character == "\\" ? "\\" : "\\\(character)"
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return escaping ? result + "\\" : result
    }
}

/// One chat: the model, its template when the user gave it, and what each line does.
private struct Session {
    let llm: LLM
    /// The model's prompt prefix and postfix (the runtime does not tell the template the model holds).
    let template: (prefix: String, postfix: String)?
    let verbose: Bool

    /// Acts on one line of input; false when the user leaves.
    func take(_ line: String) async throws -> Bool {
        guard line.hasPrefix("/") else {
            if !line.isEmpty { try await turn(line) }
            return true
        }
        let command = line.prefix { $0 != " " }
        let rest = line.dropFirst(command.count).trimmingCharacters(in: .whitespaces)
        switch command {
        case "/bye", "/exit":
            return false
        case "/reset":
            try await llm.reset()
            Console.note("(a new conversation)")
        case "/system":
            do {
                try await setSystemPrompt(Chat.unescaped(rest))
            } catch let failure as CommandFailure {
                Console.note(failure.message)
            }
        case "/help":
            Console.note(Chat.help)
        default:
            Console.note("no chat command \(command)\n\(Chat.help)")
        }
        return true
    }

    /// The next turn of the conversation. A failed answer is said and the chat goes on; a lost
    /// daemon ends it.
    private func turn(_ prompt: String) async throws {
        do {
            _ = try await LanguageModel.answer(llm, prompt, keepHistory: true, verbose: verbose)
        } catch let error as RPCError where error.code != RPCError.Code.shuttingDown {
            Console.note("rkllm chat: \(CommandFailure.from(error).message)")
        } catch let failure as CommandFailure where failure.status == .failed {
            Console.note("rkllm chat: \(failure.message)")
        }
    }

    /// A new system prompt in the model's template; the conversation starts again under it.
    func setSystemPrompt(_ text: String) async throws {
        guard let template else {
            throw CommandFailure(
                "a system prompt needs the model's template: give --prefix and --postfix (the runtime does not tell the one the model holds)",
                .usage)
        }
        try await llm.setTemplate(systemPrompt: text, promptPrefix: template.prefix, promptPostfix: template.postfix)
        try await llm.reset(keepSystemPrompt: false)
        Console.note("(a new conversation, with that system prompt)")
    }
}
