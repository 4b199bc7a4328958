/// A JSON object or array with some of its values replaced and every other byte as it came: how
/// the daemon forwards a request's parameters to a runtime host with only its handles rewritten
/// (a base64 frame of megabytes is not read into a string and written again).
public enum JSONSplice {
    /// Where a replaced value is: a member of the object, or a position in the array.
    public enum Place: Equatable, Sendable {
        case member(String)
        case position(Int)
    }

    /// `text` with the value at each place replaced by `value`'s JSON text; nil when a place is
    /// not in it (or a member is there twice), or `text` is not one JSON object or array.
    public static func replacing(_ values: [(place: Place, value: JSONValue)], in text: [UInt8]) -> [UInt8]? {
        guard let spans = spans(of: values.map(\.place), in: text) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 64)
        var copied = 0
        for (span, index) in zip(spans, spans.indices).sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            out += text[copied..<span.lowerBound]
            values[index].value.write(into: &out)
            copied = span.upperBound
        }
        out += text[copied...]
        return out
    }

    /// Where the value of each place is in `text`, in the order of `places`.
    private static func spans(of places: [Place], in text: [UInt8]) -> [Range<Int>]? {
        var found = [Range<Int>?](repeating: nil, count: places.count)
        var twice = false
        let read: Bool? = text.withUnsafeBytes { raw in
            var parser = JSONParser(raw)
            func take(_ place: Place, _ parser: inout JSONParser) throws(JSONParser.Error) {
                let start = parser.offset
                try parser.skipValue()
                guard let index = places.firstIndex(of: place) else { return }
                if found[index] != nil { twice = true }
                found[index] = start..<parser.offset
            }
            do {
                var position = 0
                let isObject = try parser.members { key, parser throws(JSONParser.Error) in
                    try take(.member(key.text), &parser)
                }
                let isArray =
                    try !isObject
                    && parser.elements { parser throws(JSONParser.Error) in
                        try take(.position(position), &parser)
                        position += 1
                    }
                try parser.end()
                return isObject || isArray
            } catch {
                return nil
            }
        }
        guard read == true, !twice else { return nil }
        let spans = found.compactMap { $0 }
        return spans.count == places.count ? spans : nil
    }
}
