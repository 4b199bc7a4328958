import Glibc

/// A byte-level JSON reader (RFC 8259) into `JSONValue`: integers stay exact (Int64, else UInt64,
/// else Double), object keys keep their order, strings must be valid UTF-8, nesting is bounded.
/// Foundation's decoders cost several microseconds per small message; this is the hot path of
/// every request.
public struct JSONParser {
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "\(message) at byte \(offset)" }
    }

    /// Deeper nesting is an error, not a stack overflow.
    public static let defaultMaxDepth = 512

    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws(Error)
        -> JSONValue
    {
        var parser = JSONParser(bytes, maxDepth: maxDepth)
        let value = try parser.value()
        try parser.end()
        return value
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(Error) -> JSONValue {
        do {
            return try bytes.withUnsafeBytes { raw in try parse(raw, maxDepth: maxDepth) }
        } catch let error as Error {
            throw error
        } catch {
            preconditionFailure("unreachable: \(error)")
        }
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(Error) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// A member name as `members` hands it over: the bytes between the quotes when they need no
    /// decoding (plain ASCII, no escapes), else the decoded string.
    public struct Key {
        // Inlinable (with these two) so the request path's member switch compiles to byte compares.
        @usableFromInline let raw: UnsafeBufferPointer<UInt8>?
        @usableFromInline let decoded: String?

        /// Length and first byte, to tell a few known names apart before comparing one.
        @inlinable public var shape: (count: Int, first: UInt8) {
            if let raw { return (raw.count, raw.first ?? 0) }
            let utf8 = decoded?.utf8
            return (utf8?.count ?? 0, utf8?.first ?? 0)
        }

        /// Compares without building a String in the common case.
        @inlinable public func `is`(_ name: StaticString) -> Bool {
            if let raw {
                guard raw.count == name.utf8CodeUnitCount else { return false }
                let expected = name.utf8Start
                for i in 0..<raw.count where raw[i] != expected[i] { return false }  // names are short: no memcmp call
                return true
            }
            return decoded == name.description
        }

        /// The name as a String.
        public var text: String { decoded ?? raw.map { String(decoding: $0, as: UTF8.self) } ?? "" }
    }

    /// A reader of one whole text, at its value: read it (`value()`, `members`, `elements`), then
    /// call `end()`. The request path reads a request this way without building the object.
    public init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) {
        self.init(bytes.bindMemory(to: UInt8.self), maxDepth: maxDepth)
        skipWhitespace()
    }

    /// A reader of the value at `offset` of `bytes`, already inside `depth` arrays and objects (they
    /// count towards the nesting bound); `offset` tells where it stopped. For a caller that reads
    /// the enclosing text itself.
    public init(_ bytes: UnsafeRawBufferPointer, at offset: Int, depth: Int) {
        self.init(bytes.bindMemory(to: UInt8.self), maxDepth: Self.defaultMaxDepth)
        self.position = offset
        self.depth = depth
    }

    /// Where the reader is: the byte after what it has read.
    public var offset: Int { position }

    /// After the value: only whitespace may follow.
    public mutating func end() throws(Error) {
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected data after the JSON value") }
    }

    /// Whether the value at the current position is an object (nothing is read).
    private var isAtObject: Bool { current == UInt8(ascii: "{") }

    /// Reads the object at the current position member by member without building it: `member`
    /// gets each key with the parser at its value, and must read that value. False, with nothing
    /// read, when the value here is not an object.
    public mutating func members(_ member: (Key, inout JSONParser) throws(Error) -> Void) throws(Error) -> Bool {
        guard isAtObject else { return false }
        try enter()
        defer { depth -= 1 }
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return true
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try memberName()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            try member(key, &self)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return true
            default: throw error("expected ',' or '}'")
            }
        }
    }

    /// Reads the array at the current position element by element: `element` gets the parser at
    /// each element and must read it. False, with nothing read, when the value here is not an array.
    public mutating func elements(_ element: (inout JSONParser) throws(Error) -> Void) throws(Error) -> Bool {
        guard current == UInt8(ascii: "[") else { return false }
        try enter()
        defer { depth -= 1 }
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return true
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return true
            default: throw error("expected ',' or ']'")
            }
        }
    }

    /// One level deeper, past the opening bracket; bounded like any nesting.
    private mutating func enter() throws(Error) {
        guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        depth += 1
        position += 1
    }

    /// A member name at the opening quote: its raw bytes when they are plain printable ASCII.
    private mutating func memberName() throws(Error) -> Key {
        var end = position + 1
        while end < bytes.count {
            let byte = bytes[end]
            guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { break }
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[(position + 1)..<end])
                position = end + 1
                return Key(raw: raw, decoded: nil)
            }
            end += 1
        }
        return Key(raw: nil, decoded: try string())
    }

    /// The value at the current position (inside `read`, `members` or `elements`).
    public mutating func value() throws(Error) -> JSONValue {
        try value(depth: depth)
    }

    /// Passes over the value at the current position without making it: a caller that forwards
    /// a value's text as it came needs only where it ends. Checks what finding the end needs (the
    /// nesting, its bound, each string's end); the text was read in full before (`value()`).
    public mutating func skipValue() throws(Error) {
        switch current {
        case UInt8(ascii: "{"):
            _ = try members { _, parser throws(Error) in try parser.skipValue() }
        case UInt8(ascii: "["):
            _ = try elements { parser throws(Error) in try parser.skipValue() }
        case UInt8(ascii: "\""):
            position += 1
            while true {
                position = JSONScan.firstSpecial(bytes.baseAddress!, from: position, to: bytes.count)
                guard let byte = current else { throw error("unterminated string") }
                switch byte {
                case UInt8(ascii: "\""):
                    position += 1
                    return
                case UInt8(ascii: "\\"): position += 2  // the escaped byte (a \u's digits are plain)
                case ..<0x20: throw error("control character in a string")
                default: position += 1  // above 0x7F
                }
            }
        default:
            _ = try value(depth: depth)  // a number or a literal: small
        }
    }

    /// The value at the current position and, when it is a number that would not be written back
    /// as it was sent (`1e2`, `0.1`, `-9223372036854775809`, `-0`), its text: for a value that must
    /// be echoed unchanged (a request id).
    public mutating func valueKeepingNumberText() throws(Error) -> (value: JSONValue, numberText: String?) {
        let start = position
        let value = try value(depth: depth)
        switch value {
        case .double: break
        case .int(0) where bytes[start] == UInt8(ascii: "-"): break
        default: return (value, nil)
        }
        return (value, String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
    }

    /// The value at the current position; when it is a string spelled exactly as `known` (no
    /// escapes), `known` itself: a caller that expects a recurring string (a method name) gets it
    /// without a new String being made.
    public mutating func value(reusing known: String?) throws(Error) -> JSONValue {
        if var known, current == UInt8(ascii: "\""), known.withUTF8({ isNext(quoted: $0) }) { return .string(known) }
        return try value(depth: depth)
    }

    /// Whether `"text"` comes next (then consumed); false for text that JSON would escape.
    private mutating func isNext(quoted text: UnsafeBufferPointer<UInt8>) -> Bool {
        let close = position + 1 + text.count
        guard close < bytes.count, bytes[close] == UInt8(ascii: "\"") else { return false }
        for i in 0..<text.count {
            let byte = text[i]
            if byte != bytes[position + 1 + i] || byte < 0x20 || byte == UInt8(ascii: "\"")
                || byte == UInt8(ascii: "\\")
            {
                return false
            }
        }
        position = close + 1
        return true
    }

    /// Whether the value at the current position is exactly this JSON text (compared as bytes,
    /// e.g. `"2.0"` with its quotes); when it is, it is consumed. Lets a caller check a known value
    /// without building it.
    public mutating func consume(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard bytes.count - position >= count, memcmp(bytes.baseAddress! + position, text.utf8Start, count) == 0 else {
            return false
        }
        // The text must end the value: what follows is whitespace, ',' or '}' / ']'.
        if position + count < bytes.count {
            switch bytes[position + count] {
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): break
            default: return false
            }
        }
        position += count
        return true
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var position = 0
    /// How many arrays and objects `members` and `elements` are inside.
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private func error(_ message: String) -> Error { Error(offset: position, message: message) }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Error) -> JSONValue {
        guard let byte = current else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(Self.printable(byte))'")
        }
    }

    private static func printable(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private mutating func literal(_ word: StaticString) throws(Error) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw error("invalid literal") }
        for i in 0..<count where bytes[position + i] != word.utf8Start[i] {
            throw error("invalid literal")
        }
        position += count
    }

    private mutating func object(depth: Int) throws(Error) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        position += 1
        var pairs: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(JSONObject())
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key: String
            if let known = knownKey() { key = known } else { key = try string() }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            pairs.append((key, try value(depth: depth)))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(JSONObject(uniqueKeysLastWins: pairs))
            default: throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(Error) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(items)
            default: throw error("expected ',' or ']'")
            }
        }
    }

    /// The members every JSON-RPC message has, recognised without building a new String.
    private static let knownKeys: [(bytes: [UInt8], string: String)] = [
        "jsonrpc", "id", "method", "params", "result", "error",
    ].map {
        (Array("\"\($0)\"".utf8), $0)
    }

    private mutating func knownKey() -> String? {
        // Their first letters differ: one comparison at most.
        guard bytes.count - position > 1 else { return nil }
        let first = bytes[position + 1]
        for known in Self.knownKeys where known.bytes[1] == first && bytes.count - position >= known.bytes.count {
            if known.bytes.withUnsafeBufferPointer({
                memcmp($0.baseAddress!, bytes.baseAddress! + position, $0.count) == 0
            }) {
                position += known.bytes.count
                return known.string
            }
        }
        return nil
    }

    private mutating func string() throws(Error) -> String {
        position += 1
        let start = position
        // Fast path: no escapes; ASCII needs no validation.
        var ascii = true
        while position < bytes.count {
            position = JSONScan.firstSpecial(bytes.baseAddress!, from: position, to: bytes.count)
            guard position < bytes.count else { break }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let s = UTF8Check.string(slice) else {
                    position = start
                    throw error("invalid UTF-8 in a string")
                }
                return s
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            ascii = false  // above 0x7F: checked as UTF-8 at the end
            position += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let s = out.withUnsafeBufferPointer(UTF8Check.string) else {
                    position = start
                    throw error("invalid UTF-8 in a string")
                }
                return s
            case UInt8(ascii: "\\"):
                position += 1
                guard let escape = current else { throw error("unterminated escape") }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): try unicodeEscape(into: &out)
                default: throw error("invalid escape '\\\(Self.printable(escape))'")
                }
            default:
                if byte < 0x20 { throw error("control character in a string") }
                out.append(byte)
                position += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(Error) -> UInt32 {
        guard bytes.count - position >= 4 else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | UInt32(digit)
            position += 1
        }
        return v
    }

    private mutating func unicodeEscape(into out: inout [UInt8]) throws(Error) {
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar) {
            // A high surrogate must be followed by an escaped low one.
            guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"),
                bytes[position + 1] == UInt8(ascii: "u")
            else {
                throw error("unpaired surrogate in \\u escape")
            }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
            throw error("unpaired surrogate in \\u escape")
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
        out.append(contentsOf: UTF8.encode(unicode)!)
    }

    private mutating func number() throws(Error) -> JSONValue {
        let start = position
        var negative = false
        if current == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            throw error("invalid number")
        }
        var magnitude: UInt64 = 0
        var overflow = false
        if first == UInt8(ascii: "0") {
            position += 1
        } else {
            while let d = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(d) {
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = m2
                position += 1
            }
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard try digits() > 0 else { throw error("invalid number: no digits after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard try digits() > 0 else { throw error("invalid number: no digits in the exponent") }
        }
        if isInteger && !overflow {
            if negative {
                if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
                if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            } else {
                if magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
                return .uint(magnitude)
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw Error(offset: start, message: "number out of range") }
        return .double(d)
    }

    private mutating func digits() throws(Error) -> Int {
        var n = 0
        while let d = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(d) {
            position += 1
            n += 1
        }
        return n
    }
}
