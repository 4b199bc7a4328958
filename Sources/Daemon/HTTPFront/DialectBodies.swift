/// The generation routes' reading of a request body, from bytes, for the fuzz target
/// (`rkllm-fuzz`): the same reading the routes do, without a connection. A body reads as a request
/// whose numbers are in their fields' ranges, or as the message of its 400.
public enum DialectBodies {
    /// The routes whose bodies are read: OpenAI's chat and completions, Ollama's chat and generate.
    public static let routes = ["/v1/chat/completions", "/v1/completions", "/api/chat", "/api/generate"]

    /// What a body asks for, as far as bounds go.
    public struct Read: Equatable, Sendable {
        public let maxTokens: Int?
        public let topK: Int?
        public let temperature: Double?
        public let topP: Double?
        public let keepAlive: Double?
    }

    /// Why a body is refused: its status and message.
    public struct Refusal: Error, Equatable {
        public let status: Int
        public let message: String
    }

    /// `body` as the route `routes[route]` reads it: the request's bounded fields, or why it is refused.
    public static func read(route: Int, body: [UInt8]) -> Result<Read, Refusal> {
        let chat = route % 2 == 0
        let outcome = TextGenerator.read(body) { body throws(ChatPrompt.Failure) in
            route < 2 ? try OpenAIDialect.request(body, chat: chat) : try OllamaDialect.request(body, chat: chat)
        }
        return outcome.map { read in
            let request = read.request
            return Read(
                maxTokens: request.maxTokens, topK: request.topK, temperature: request.temperature, topP: request.topP,
                keepAlive: request.keepAlive)
        }.mapError { Refusal(status: $0.status, message: $0.message) }
    }
}
