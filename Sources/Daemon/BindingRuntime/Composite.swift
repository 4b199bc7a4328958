/// A method's composite form (the annotations' `composite`): a request by name that gives one of
/// its `params` runs `steps` in order, one call of the table each, and is answered with the result
/// of step `answer`. A step's parameters are a template over the request's parameters and the
/// results of the steps before it (`CompositeAnnotation` says its words).
public struct Composite: Sendable {
    public struct Step: Sendable {
        public let method: String
        public let params: JSONValue
        /// A request parameter without which the step is skipped.
        public let condition: String?

        public init(_ method: String, params: JSONValue, if condition: String? = nil) {
            self.method = method
            self.params = params
            self.condition = condition
        }
    }

    /// The form's own parameters, with their values when a request gives none.
    public let params: [String]
    public let defaults: JSONObject
    public let steps: [Step]
    public let answer: Int
    /// The most copies a `$repeat` makes (a count read from a result bounds nothing by itself).
    public static let maxRepeat = 4096

    public init(params: [String], defaults: JSONObject = [:], steps: [Step], answer: Int) {
        self.params = params
        self.defaults = defaults
        self.steps = steps
        self.answer = answer
    }

    /// Whether a request asks for this form: by name, giving one of its own parameters.
    public func isSelected(by request: JSONValue?) -> Bool {
        guard case .object(let given)? = request else { return false }
        return params.contains { given[$0] != nil }
    }

    /// A step's parameters for this request and the results so far; nil when the step is skipped.
    public func params(of step: Step, request: JSONObject, results: [JSONValue]) throws -> JSONValue? {
        if let condition = step.condition, request[condition] == nil { return nil }
        return try resolve(step.params, request: request, results: results) ?? .object([:])
    }

    /// The template's value: nil for a reference to what the request does not give.
    private func resolve(_ template: JSONValue, request: JSONObject, results: [JSONValue]) throws -> JSONValue? {
        switch template {
        case .string(let text) where text.hasPrefix("$"):
            let path = text.dropFirst().split(separator: ".").map(String.init)
            var value: JSONValue?
            if let step = Int(path[0]) {
                value = results.indices.contains(step) ? results[step] : nil
            } else {
                value = request[path[0]] ?? defaults[path[0]]
            }
            for member in path.dropFirst() { value = value?[member] }
            return value
        case .array(let items):
            return .array(try items.map { try resolve($0, request: request, results: results) ?? .null })
        case .object(let members):
            if let element = members["$repeat"] {
                let times = try members["$times"].flatMap { try resolve($0, request: request, results: results) }
                guard case .int(let count)? = times, count >= 0, count <= Self.maxRepeat else {
                    throw RPCError(
                        code: RPCError.Code.internalError,
                        message:
                            "a composite step's count is \(times?.jsonText ?? "missing"), not 0...\(Self.maxRepeat)")
                }
                let one = try resolve(element, request: request, results: results) ?? .null
                return .array(Array(repeating: one, count: Int(count)))
            }
            var object = JSONObject()
            for (key, value) in members.pairs {
                if let resolved = try resolve(value, request: request, results: results) { object[key] = resolved }
            }
            return .object(object)
        default:
            return template
        }
    }
}
