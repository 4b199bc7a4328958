import APIModel

/// Swift spellings of C names and types, by rule, never from libclang's type spellings.
public struct SwiftNames: Sendable {
    /// The C module the generated code imports (`CRKNN`).
    public let cModule: String

    public init(cModule: String) { self.cModule = cModule }

    /// Words Swift reserves: a C name equal to one is written in backticks.
    public static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows",
        "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default",
        "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch",
        "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true",
        "try", "Type", "Protocol", "_",
    ]

    /// The one escaping rule: keywords in backticks, every other C identifier as it is.
    public static func identifier(_ name: String) -> String {
        keywords.contains(name) ? "`\(name)`" : name
    }

    /// The C type as Swift imports it, qualified with the C module.
    public func imported(_ type: CType) -> String {
        switch type {
        case .void: return "Void"
        case .bool: return "Bool"
        case .char: return "CChar"
        case .integer(let name, let bytes, let signed):
            return Self.integerType(name: name, bytes: bytes, signed: signed)
        case .floating(_, let bytes): return bytes == 4 ? "Float" : "Double"
        case .record(let name), .enumeration(let name): return "\(cModule).\(name)"
        case .typedef(let name, let underlying):
            if case .pointer = underlying.resolved { return "\(cModule).\(name)?" }
            return "\(cModule).\(name)"
        case .pointer(let to, let isConst):
            return pointer(to: to, isConst: isConst) + "?"
        case .array(let of, _):
            return "UnsafeMutablePointer<\(imported(of))>?"
        case .function(let f):
            return "@convention(c) (" + f.parameters.map(imported).joined(separator: ", ") + ") -> "
                + imported(f.result)
        case .unsupported: return "Never"
        }
    }

    private func pointer(to pointee: CType, isConst: Bool) -> String {
        switch pointee.resolved {
        case .void where pointee == .void: return isConst ? "UnsafeRawPointer" : "UnsafeMutableRawPointer"
        case .function:
            if case .typedef = pointee { return "(\(imported(pointee)))" }
            return "(\(imported(pointee.resolved)))"
        default:
            return (isConst ? "UnsafePointer<" : "UnsafeMutablePointer<") + imported(pointee) + ">"
        }
    }

    /// `size_t` and friends import as `Int`/`UInt`; `long` as `Int`; fixed widths as themselves.
    public static func integerType(name: String, bytes: Int, signed: Bool) -> String {
        switch name {
        case "size_t", "ssize_t", "intptr_t", "ptrdiff_t", "long", "long int": return "Int"
        case "uintptr_t", "unsigned long", "unsigned long int": return "UInt"
        default: return (signed ? "Int" : "UInt") + String(bytes * 8)
        }
    }

    /// The arguments converting `expr` between a mirror number and the imported C number
    /// (`CChar` may be unsigned, `size_t` is `Int`).
    public static func numericConversion(_ type: CType, _ expr: String) -> String {
        switch type.resolved {
        case .integer, .char: return "truncatingIfNeeded: \(expr)"
        default: return expr
        }
    }

    /// The type the Swift mirror uses for a C number: exact width, so JSON range checks are the C ones.
    public static func mirrorNumber(_ type: CType) -> String? {
        switch type.resolved {
        case .bool: return "Bool"
        case .char: return "Int8"
        case .integer(_, let bytes, let signed): return (signed ? "Int" : "UInt") + String(bytes * 8)
        case .floating(_, let bytes): return bytes == 4 ? "Float" : "Double"
        default: return nil
        }
    }
}
