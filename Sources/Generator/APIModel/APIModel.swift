/// The plain model of a C API that the parser produces and every later stage reads.
public struct APIModel: Codable, Equatable, Sendable {
    /// The target triple the layouts were computed for.
    public var target: String
    public var headers: [String]
    public var functions: [Function]
    /// `static inline` functions with bodies: present in the header, not symbols of the library.
    public var inlineHelpers: [Function]
    public var records: [Record]
    public var enums: [EnumDecl]
    public var typedefs: [Typedef]
    public var macros: [Macro]
    public var diagnostics: [Diagnostic]

    public init(
        target: String, headers: [String] = [], functions: [Function] = [], inlineHelpers: [Function] = [],
        records: [Record] = [], enums: [EnumDecl] = [], typedefs: [Typedef] = [], macros: [Macro] = [],
        diagnostics: [Diagnostic] = []
    ) {
        self.target = target
        self.headers = headers
        self.functions = functions
        self.inlineHelpers = inlineHelpers
        self.records = records
        self.enums = enums
        self.typedefs = typedefs
        self.macros = macros
        self.diagnostics = diagnostics
    }

    public func record(named name: String) -> Record? { records.first { $0.name == name } }
    public func enumeration(named name: String) -> EnumDecl? { enums.first { $0.name == name } }
    public func function(named name: String) -> Function? { functions.first { $0.name == name } }
}

/// Where a declaration stands: header file name (not path) and line.
public struct SourceLocation: Codable, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
    public var description: String { "\(file):\(line)" }
}

public struct Parameter: Codable, Hashable, Sendable {
    public var name: String
    public var type: CType
    public init(name: String, type: CType) {
        self.name = name
        self.type = type
    }
}

public struct Function: Codable, Hashable, Sendable {
    public var name: String
    public var header: String
    public var location: SourceLocation
    public var result: CType
    public var parameters: [Parameter]
    public var hasPrototype: Bool

    public init(
        name: String, header: String, location: SourceLocation, result: CType, parameters: [Parameter],
        hasPrototype: Bool
    ) {
        self.name = name
        self.header = header
        self.location = location
        self.result = result
        self.parameters = parameters
        self.hasPrototype = hasPrototype
    }

    /// `int rkllm_run(LLMHandle handle, ...)`, stable across targets.
    public var signature: String {
        let params =
            parameters.isEmpty
            ? (hasPrototype ? "void" : "")
            : parameters.map { "\($0.type.spelling) \($0.name)" }.joined(separator: ", ")
        return "\(result.spelling) \(name)(\(params))"
    }
}

public struct Field: Codable, Hashable, Sendable {
    /// Empty for an anonymous struct/union member, whose fields are members of the enclosing record.
    public var name: String
    public var type: CType
    public var offset: Int
    public var size: Int
    public init(name: String, type: CType, offset: Int, size: Int) {
        self.name = name
        self.type = type
        self.offset = offset
        self.size = size
    }
    public var isAnonymousMember: Bool { name.isEmpty }
}

public struct Record: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable { case `struct`, union }
    /// The typedef name when the record is typedef'd, else its tag, else a name synthesised from
    /// where it stands (`Parent_field`, `Parent_anon_N`).
    public var name: String
    public var kind: Kind
    public var header: String
    public var location: SourceLocation
    public var size: Int
    public var alignment: Int
    public var fields: [Field]
    /// True for a record declared without a name inside another one.
    public var isNested: Bool
    /// For a record nested in another: the enclosing record, and the type name Swift's importer
    /// gives it inside the parent (`__Unnamed_union___Anonymous_field3`, `__Unnamed_struct_image`).
    public var parent: String?
    public var swiftPath: String?

    /// A C11 anonymous struct/union member: its fields are members of the parent.
    public var isAnonymousMember: Bool { swiftPath?.contains("___Anonymous_field") == true }

    public init(
        name: String, kind: Kind, header: String, location: SourceLocation, size: Int, alignment: Int,
        fields: [Field], isNested: Bool = false, parent: String? = nil, swiftPath: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.header = header
        self.location = location
        self.size = size
        self.alignment = alignment
        self.fields = fields
        self.isNested = isNested
        self.parent = parent
        self.swiftPath = swiftPath
    }
}

public struct EnumConstant: Codable, Hashable, Sendable {
    public var name: String
    public var value: Int64
    public init(name: String, value: Int64) {
        self.name = name
        self.value = value
    }
}

public struct EnumDecl: Codable, Hashable, Sendable {
    public var name: String
    public var header: String
    public var location: SourceLocation
    public var size: Int
    public var constants: [EnumConstant]
    public init(name: String, header: String, location: SourceLocation, size: Int, constants: [EnumConstant]) {
        self.name = name
        self.header = header
        self.location = location
        self.size = size
        self.constants = constants
    }
}

public struct Typedef: Codable, Hashable, Sendable {
    public var name: String
    public var header: String
    public var location: SourceLocation
    public var underlying: CType
    /// The parameter names of a function-pointer typedef, as the header wrote them.
    public var parameterNames: [String]?
    public init(
        name: String, header: String, location: SourceLocation, underlying: CType, parameterNames: [String]? = nil
    ) {
        self.name = name
        self.header = header
        self.location = location
        self.underlying = underlying
        self.parameterNames = parameterNames
    }
}

public struct Macro: Codable, Hashable, Sendable {
    public enum Value: Codable, Hashable, Sendable {
        case integer(Int64)
        case string(String)
    }
    public var name: String
    public var header: String
    public var location: SourceLocation
    public var value: Value
    public init(name: String, header: String, location: SourceLocation, value: Value) {
        self.name = name
        self.header = header
        self.location = location
        self.value = value
    }
}

public struct Diagnostic: Codable, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Codable, Sendable { case warning, error }
    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    public init(_ severity: Severity, _ message: String, at location: SourceLocation? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
    }
    /// `file:line: warning: message`, the form SwiftPM shows inline.
    public var description: String {
        let prefix = location.map { "\($0): " } ?? ""
        return "\(prefix)\(severity.rawValue): \(message)"
    }
}
