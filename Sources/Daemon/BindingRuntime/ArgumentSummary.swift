/// What a call was given, short enough to repeat in its error: a long string (a base64 buffer, a
/// prompt) becomes its start and its length, a long array its first elements and its count.
enum ArgumentSummary {
    static let maxString = 48
    static let maxItems = 4
    static let maxDepth = 4

    static func of(_ value: JSONValue, depth: Int = 0) -> JSONValue {
        switch value {
        case .string(let text) where text.count > maxString:
            return .string(String(text.prefix(maxString)) + "... (\(text.utf8.count) bytes)")
        case .array(let items):
            guard depth < maxDepth else { return .string("(\(items.count) items)") }
            var kept = items.prefix(maxItems).map { of($0, depth: depth + 1) }
            if items.count > maxItems { kept.append(.string("... (\(items.count) items)")) }
            return .array(kept)
        case .object(let members):
            guard depth < maxDepth else { return .string("(an object)") }
            return .object(JSONObject(members.pairs.map { ($0.key, of($0.value, depth: depth + 1)) }))
        default:
            return value
        }
    }
}
