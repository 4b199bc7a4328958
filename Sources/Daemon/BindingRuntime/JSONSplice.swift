/// A JSON object or array with some of its values replaced and every other byte as it came: how
/// the daemon forwards a request's parameters to a runtime host with only its handles rewritten
/// (a base64 frame of megabytes is not written again from a string, only copied once, to the host).
public struct JSONSplice: Sendable {
    /// Where a replaced value is: a member of the object, or a position in the array.
    public enum Place: Equatable, Sendable {
        case member(String)
        case position(Int)
    }

    private let text: [UInt8]
    /// Where each replaced value was in `text`, in the order of the text.
    private let replacements: [(span: Range<Int>, value: JSONValue)]

    /// `text` with the value at each place to be replaced by `value`; nil when a place is not in
    /// it (or a member is there twice), or `text` is not one JSON object or array.
    public init?(_ text: [UInt8], replacing values: [(place: Place, value: JSONValue)]) {
        guard let spans = Self.spans(of: values.map(\.place), in: text) else { return nil }
        self.text = text
        replacements = zip(spans, values.map(\.value)).map { (span: $0, value: $1) }.sorted {
            $0.span.lowerBound < $1.span.lowerBound
        }
    }

    /// Appends the text with the values replaced.
    public func write(into out: inout [UInt8]) {
        var copied = 0
        for (span, value) in replacements {
            out += text[copied..<span.lowerBound]
            value.write(into: &out)
            copied = span.upperBound
        }
        out += text[copied...]
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
