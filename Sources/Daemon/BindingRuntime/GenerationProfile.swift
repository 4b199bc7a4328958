/// How a runtime generates text from prompts (its annotations' `generation`), for fronts that
/// speak a text-generation dialect: the method calls that load a model, run a prompt and set
/// tools, as parameter templates, and where the messages carry text and token counts.
public struct GenerationProfile: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public let method: String
        /// Parameters with `$placeholder` strings.
        public let params: JSONValue

        public init(method: String, params: JSONValue) {
            self.method = method
            self.params = params
        }

        /// Whether a value for `placeholder` has somewhere to go in this step.
        public func takes(_ placeholder: String) -> Bool { Self.contains(placeholder, params) }

        /// The parameters with each placeholder replaced by its value; a member (or element at the
        /// end of an array) whose placeholder has no value is left out, and so is an object left
        /// with no member.
        public func params(_ values: [String: JSONValue]) -> JSONValue {
            Self.fill(params, values) ?? .null
        }

        private static func fill(_ template: JSONValue, _ values: [String: JSONValue]) -> JSONValue? {
            switch template {
            case .string(let text) where text.hasPrefix("$"):
                return values[text]
            case .array(let items):
                var filled = items.map { fill($0, values) }
                while let last = filled.last, last == nil { filled.removeLast() }
                return .array(filled.map { $0 ?? .null })
            case .object(let object):
                let filled = object.pairs.compactMap { key, value in fill(value, values).map { (key, $0) } }
                return filled.isEmpty && !object.pairs.isEmpty ? nil : .object(JSONObject(filled))
            default:
                return template
            }
        }

        private static func contains(_ placeholder: String, _ template: JSONValue) -> Bool {
            switch template {
            case .string(let text): return text == placeholder
            case .array(let items): return items.contains { contains(placeholder, $0) }
            case .object(let object): return object.pairs.contains { contains(placeholder, $0.value) }
            default: return false
            }
        }
    }

    public let load: Step
    /// The member of the load's answer that is the handle (`$handle`).
    public let handle: String
    public let run: Step
    public let tools: Step?
    /// Dotted paths: a stream message's text; the final message's prompt and generated tokens.
    public let text: String
    public let promptTokens: String?
    public let completionTokens: String?
    /// What frames a tool call in the output.
    public let toolCallBegin: String?
    public let toolCallEnd: String?

    public init(
        load: Step, handle: String, run: Step, tools: Step?, text: String, promptTokens: String?,
        completionTokens: String?, toolCallBegin: String?, toolCallEnd: String?
    ) {
        self.load = load
        self.handle = handle
        self.run = run
        self.tools = tools
        self.text = text
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.toolCallBegin = toolCallBegin
        self.toolCallEnd = toolCallEnd
    }

    /// The value at a dotted path of a message.
    public static func value(at path: String, of message: JSONValue) -> JSONValue? {
        path.split(separator: ".").reduce(Optional(message)) { value, key in value?[String(key)] }
    }
}
