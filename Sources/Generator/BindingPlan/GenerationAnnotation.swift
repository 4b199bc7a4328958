/// How a runtime generates text from prompts, for fronts that speak a text-generation dialect
/// (the daemon's HTTP front: OpenAI's and Ollama's APIs): the calls that load a model, run a
/// prompt and set tools, each with its parameters as a template whose `$placeholder` strings the
/// front fills (a placeholder it has no value for leaves its member out), and where the stream
/// messages and the final one carry the text and the token counts. A request setting no template
/// takes (a sampling setting a runtime fixes at load) is refused by the front, never ignored.
public struct GenerationAnnotation: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        /// The C function the step calls.
        public var call: String
        /// Its parameters, by position or by name, with placeholders.
        public var params: AnnotationJSON
        /// For the load: the member of its answer that is the handle the other steps take.
        public var handle: String?
    }

    /// Text that frames a tool call in the model's output (`<tool_call>`, `</tool_call>`).
    public struct Markers: Codable, Sendable, Equatable {
        public var begin: String
        public var end: String
    }

    public var load: Step
    public var run: Step
    public var tools: Step?
    /// Paths (dotted) in a stream message: its text; in the final message: the prompt's tokens
    /// and the generated ones.
    public var text: String
    public var promptTokens: String?
    public var completionTokens: String?
    public var toolCall: Markers?

    enum CodingKeys: String, CodingKey {
        case load, run, tools, text
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case toolCall = "tool_call"
    }

    /// The placeholders a front fills.
    public static let placeholders: Set<String> = [
        "$model", "$handle", "$prompt", "$role", "$keep_history", "$max_tokens", "$temperature", "$top_p", "$top_k",
        "$tools",
    ]
}
