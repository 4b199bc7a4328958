import APIModel

/// Evaluates the body of an object-like macro: integer literals (any base, any suffix), string
/// literals, parentheses, unary `- + ~ !`, binary `* / % + - << >> & ^ |`, casts to integer types
/// and references to other constants. Anything else is not a constant: nil.
public struct MacroEvaluator {
    public enum Token: Equatable {
        case literal(String)
        case identifier(String)
        case punctuation(String)
    }

    private var tokens: [Token]
    private var position = 0
    private let lookup: (String) -> Macro.Value?

    public init(tokens: [Token], lookup: @escaping (String) -> Macro.Value?) {
        self.tokens = tokens
        self.lookup = lookup
    }

    public mutating func evaluate() -> Macro.Value? {
        guard !tokens.isEmpty else { return nil }
        if tokens.allSatisfy({ if case .literal(let s) = $0 { return s.hasPrefix("\"") } else { return false } }) {
            // Adjacent string literals concatenate.
            var text = ""
            for case .literal(let s) in tokens {
                guard let part = Self.stringLiteral(s) else { return nil }
                text += part
            }
            return .string(text)
        }
        if tokens.count == 1, case .identifier(let name) = tokens[0], case .string(let s)? = lookup(name) {
            return .string(s)
        }
        guard let value = binary(precedence: 0), position == tokens.count else { return nil }
        return .integer(value)
    }

    private static let precedence: [String: Int] = [
        "|": 1, "^": 2, "&": 3, "<<": 4, ">>": 4, "+": 5, "-": 5, "*": 6, "/": 6, "%": 6,
    ]
    private static let integerCastWords: Set<String> = [
        "int", "unsigned", "signed", "long", "short", "char", "int8_t", "int16_t", "int32_t", "int64_t",
        "uint8_t", "uint16_t", "uint32_t", "uint64_t", "size_t",
    ]

    private mutating func binary(precedence minimum: Int) -> Int64? {
        guard var lhs = unary() else { return nil }
        while position < tokens.count, case .punctuation(let op) = tokens[position],
            let p = Self.precedence[op], p > minimum
        {
            position += 1
            guard let rhs = binary(precedence: p) else { return nil }
            switch op {
            case "|": lhs |= rhs
            case "^": lhs ^= rhs
            case "&": lhs &= rhs
            case "<<":
                guard rhs >= 0, rhs < 64 else { return nil }
                lhs = lhs << rhs
            case ">>":
                guard rhs >= 0, rhs < 64 else { return nil }
                lhs = lhs >> rhs
            case "+": lhs = lhs &+ rhs
            case "-": lhs = lhs &- rhs
            case "*": lhs = lhs &* rhs
            case "/":
                guard rhs != 0 else { return nil }
                lhs /= rhs
            case "%":
                guard rhs != 0 else { return nil }
                lhs %= rhs
            default: return nil
            }
        }
        return lhs
    }

    private mutating func unary() -> Int64? {
        guard position < tokens.count else { return nil }
        let token = tokens[position]
        position += 1
        switch token {
        case .punctuation("-"): return unary().map { 0 &- $0 }
        case .punctuation("+"): return unary()
        case .punctuation("~"): return unary().map { ~$0 }
        case .punctuation("!"): return unary().map { $0 == 0 ? 1 : 0 }
        case .punctuation("("):
            // A cast `(type)expr` or a parenthesised expression.
            var cursor = position
            while cursor < tokens.count, case .identifier(let word) = tokens[cursor],
                Self.integerCastWords.contains(word)
            {
                cursor += 1
            }
            if cursor > position, cursor < tokens.count, tokens[cursor] == .punctuation(")") {
                position = cursor + 1
                return unary()
            }
            guard let inner = binary(precedence: 0), position < tokens.count,
                tokens[position] == .punctuation(")")
            else { return nil }
            position += 1
            return inner
        case .literal(let text): return Self.integerLiteral(text)
        case .identifier(let name):
            if case .integer(let v)? = lookup(name) { return v }
            return nil
        default: return nil
        }
    }

    /// `0x1F`, `017`, `0b101`, `42u`, `1ULL`, `'a'`.
    static func integerLiteral(_ text: String) -> Int64? {
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count == 3 {
            return Int64(text.unicodeScalars.dropFirst().first!.value)
        }
        var body = Substring(text.lowercased())
        while let last = body.last, last == "u" || last == "l" { body = body.dropLast() }
        let (digits, radix): (Substring, Int) =
            body.hasPrefix("0x")
            ? (body.dropFirst(2), 16)
            : body.hasPrefix("0b")
                ? (body.dropFirst(2), 2)
                : (body.count > 1 && body.hasPrefix("0")) ? (body.dropFirst(), 8) : (body, 10)
        if let v = Int64(digits, radix: radix) { return v }
        return UInt64(digits, radix: radix).map { Int64(bitPattern: $0) }
    }

    /// A C string literal's value, with the common escapes.
    static func stringLiteral(_ text: String) -> String? {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return nil }
        var out = ""
        var escaped = false
        for ch in text.dropFirst().dropLast() {
            if escaped {
                switch ch {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                default: out.append(ch)
                }
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
