/// A C type as the generator understands it: a plain value built from libclang's answers,
/// never from its type spellings.
public indirect enum CType: Codable, Hashable, Sendable {
    case void
    case bool
    /// `char` (used for strings: `char*`, `char[N]`); signedness is the target's.
    case char
    /// An integer type: `name` is the C spelling of the builtin (`int`, `unsigned long`...) or of
    /// the stdint typedef the header used (`int32_t`, `size_t`).
    case integer(name: String, bytes: Int, signed: Bool)
    case floating(name: String, bytes: Int)
    case pointer(to: CType, isConst: Bool)
    /// A fixed array (`T x[N]`) or, with `count` nil, an incomplete array parameter (`T x[]`).
    case array(of: CType, count: Int?)
    /// A struct or union, by its model name (see `Record.name`).
    case record(String)
    case enumeration(String)
    /// A typedef that is not a plain record/enum alias (`rknn_context`, `LLMHandle`), with what it stands for.
    case typedef(name: String, underlying: CType)
    case function(FunctionType)
    /// Something the generator cannot express; `reason` says what.
    case unsupported(reason: String)
}

public struct FunctionType: Codable, Hashable, Sendable {
    public var result: CType
    public var parameters: [CType]
    /// False for a K&R `()` declaration in C: no prototype.
    public var hasPrototype: Bool

    public init(result: CType, parameters: [CType], hasPrototype: Bool) {
        self.result = result
        self.parameters = parameters
        self.hasPrototype = hasPrototype
    }
}

extension CType {
    /// The type with every non-record typedef looked through.
    public var resolved: CType {
        if case .typedef(_, let underlying) = self { return underlying.resolved }
        return self
    }

    /// The typedef names this type goes through, outermost first (`rknn_matmul_ctx`, `rknn_context`).
    public var typedefChain: [String] {
        if case .typedef(let name, let underlying) = self { return [name] + underlying.typedefChain }
        return []
    }

    /// A C-like spelling for reports and diagnostics, stable across targets and versions.
    public var spelling: String {
        switch self {
        case .void: return "void"
        case .bool: return "bool"
        case .char: return "char"
        case .integer(let name, _, _), .floating(let name, _): return name
        case .pointer(let to, let isConst):
            if case .function(let f) = to.resolved, case .function = to { return f.spelling(name: "(*)") }
            return (isConst ? "const " : "") + to.spelling + "*"
        case .array(let of, let count): return of.spelling + "[" + (count.map(String.init) ?? "") + "]"
        case .record(let name), .enumeration(let name): return name
        case .typedef(let name, _): return name
        case .function(let f): return f.spelling(name: "")
        case .unsupported(let reason): return "<unsupported: \(reason)>"
        }
    }

    public var isCharPointer: Bool {
        if case .pointer(let to, _) = self, case .char = to.resolved { return true }
        return false
    }
}

extension FunctionType {
    public func spelling(name: String) -> String {
        let params =
            parameters.isEmpty ? (hasPrototype ? "void" : "") : parameters.map(\.spelling).joined(separator: ", ")
        return "\(result.spelling) \(name)(\(params))"
    }
}
