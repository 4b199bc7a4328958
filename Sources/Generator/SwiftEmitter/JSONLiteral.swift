import BindingPlan

/// An annotation's JSON value as Swift source: a literal of the runtime's `JSONValue`.
enum JSONLiteral {
    static func swift(_ value: AnnotationJSON) -> String {
        switch value {
        case .null: return "nil"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return Emitter.swiftStringLiteral(s)
        case .array(let items): return "[" + items.map(swift).joined(separator: ", ") + "]"
        case .object(let members):
            guard !members.isEmpty else { return "[:]" }
            return "["
                + members.sorted { $0.key < $1.key }.map { "\(Emitter.swiftStringLiteral($0.key)): \(swift($0.value))" }
                .joined(separator: ", ") + "]"
        }
    }
}
