import BindingRuntime

/// A chat's messages (OpenAI's and Ollama's: role and content) as the one prompt a runtime that
/// keeps no conversation of the request's takes: the last message is the turn (a `tool` message is
/// a tool's result), the system messages and earlier turns come before it as plain text. The
/// runtime's own chat template frames the whole.
enum ChatPrompt {
    struct Failure: Error {
        let message: String
        init(message: String) { self.message = message }
        init(_ outOfRange: CheckedNumbers.OutOfRange) { message = outOfRange.description }
    }

    static func compose(_ messages: JSONValue?) throws(Failure) -> (prompt: String, role: String) {
        guard case .array(let list)? = messages, !list.isEmpty else {
            throw Failure(message: "'messages' must be a non-empty array")
        }
        var parts: [(role: String, text: String)] = []
        for message in list {
            guard case .string(let role)? = message["role"],
                ["system", "user", "assistant", "tool", "developer"].contains(role)
            else { throw Failure(message: "each message needs a role: system, user, assistant or tool") }
            parts.append((role, try text(of: message)))
        }
        let turn = parts.removeLast()
        guard turn.role == "user" || turn.role == "tool" else {
            throw Failure(message: "the last message must be the user's (or a tool's result), not \(turn.role)")
        }
        let system = parts.filter { $0.role == "system" || $0.role == "developer" }.map(\.text)
        let earlier = parts.filter { $0.role != "system" && $0.role != "developer" }.map {
            ($0.role == "assistant" ? "Assistant: " : $0.role == "tool" ? "Tool: " : "User: ") + $0.text
        }
        var prompt = system.joined(separator: "\n")
        if !earlier.isEmpty {
            prompt += (prompt.isEmpty ? "" : "\n\n") + earlier.joined(separator: "\n") + "\n"
            if turn.role == "user" { prompt += "User: " }
        } else if !prompt.isEmpty {
            prompt += "\n\n"
        }
        return (prompt + turn.text, turn.role)
    }

    /// A message's content: a string, or OpenAI's list of parts of which the text ones count.
    private static func text(of message: JSONValue) throws(Failure) -> String {
        switch message["content"] {
        case .string(let text)?: return text
        case nil, .null?: return ""
        case .array(let parts)?:
            return parts.compactMap { part -> String? in
                if case .string(let text)? = part["text"] { return text }
                return nil
            }.joined()
        default: throw Failure(message: "a message's content must be text")
        }
    }
}
