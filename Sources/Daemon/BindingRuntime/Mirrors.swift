/// The Swift mirror of a C struct or union, generated per type: JSON keys are the C field names.
public protocol CRecordMirror: JSONConvertible, Sendable {
    associatedtype CValue
    /// Every field zero (or empty).
    init()
    /// Reads a C value; pointers are followed with the counts the annotations give.
    init(_ c: CValue)
    /// The C value; strings and arrays live in `arena` until it is released.
    func cValue(_ arena: Arena) throws -> CValue
    /// Overwrites the fields present in a JSON object; unknown keys are an error.
    mutating func apply(_ json: JSONValue, path: String) throws
    /// The C function that returns the defaults by value, when the annotations name one.
    static var defaultMaker: String? { get }
    /// The integer field an element of an array gets its position in when the client leaves it out.
    static var positionField: String? { get }
    /// What fields the client leaves out are, where the annotations say (else zero).
    static var fieldDefaults: FieldDefaults { get }
    /// Calls the default-maker found at `symbol`.
    static func makeDefault(_ symbol: UnsafeRawPointer) -> Self
}

extension CRecordMirror {
    public init(json: JSONValue, path: String) throws {
        self.init()
        try applyGiven(json, path: path)
    }

    /// Overwrites the fields `json` gives, and those it leaves out that have annotated defaults.
    public mutating func applyGiven(_ json: JSONValue, path: String) throws {
        if let missing = Self.fieldDefaults.missing(from: json) { try apply(missing, path: path) }
        try apply(json, path: path)
    }

    public static var defaultMaker: String? { nil }
    public static var positionField: String? { nil }
    public static var fieldDefaults: FieldDefaults { FieldDefaults() }
    public static func makeDefault(_ symbol: UnsafeRawPointer) -> Self { Self() }

    /// The object's members, rejecting keys the C type does not have.
    public static func members(of json: JSONValue, path: String, known: Set<String>, type: String) throws -> JSONObject
    {
        guard case .object(let object) = json else {
            throw RPCError.invalidParams(path, "expected an object (\(type)), got \(json.typeName)")
        }
        for key in object.keys where !known.contains(key) {
            throw RPCError.invalidParams(path.isEmpty ? key : "\(path).\(key)", "\(type) has no field '\(key)'")
        }
        return object
    }
}

/// The Swift mirror of a C enum: JSON accepts the constant's name or its number, and writes the
/// name when the value has one.
public protocol CEnumMirror: JSONConvertible, Hashable, Sendable {
    var rawValue: Int64 { get }
    init(rawValue: Int64)
    static var constants: [(name: String, value: Int64)] { get }
    static var cName: String { get }
}

extension CEnumMirror {
    public init(json: JSONValue, path: String) throws {
        switch json {
        case .string(let name):
            guard let constant = Self.constants.first(where: { $0.name == name }) else {
                throw RPCError.invalidParams(path, "'\(name)' is not a constant of \(Self.cName)")
            }
            self.init(rawValue: constant.value)
        case .int, .uint, .double:
            self.init(rawValue: try Int64(json: json, path: path))
        default:
            throw RPCError.invalidParams(path, "expected a \(Self.cName) name or number, got \(json.typeName)")
        }
    }

    public var json: JSONValue {
        if let constant = Self.constants.first(where: { $0.value == rawValue }) { return .string(constant.name) }
        return .int(rawValue)
    }

    public var name: String? { Self.constants.first { $0.value == rawValue }?.name }
}

/// What a record's fields are when a client leaves them out, where zero is not what a caller
/// means (the annotations' `default`, and `default_file_name_of`: a name from a path field).
public struct FieldDefaults: Sendable {
    public let values: JSONObject
    /// Field -> the path field whose file name (without its extension) it is.
    public let fileNames: [(field: String, path: String)]

    public init(values: JSONObject = [:], fileNames: [(field: String, path: String)] = []) {
        self.values = values
        self.fileNames = fileNames
    }

    /// The defaults of the fields an object leaves out; nil when there are none.
    func missing(from json: JSONValue) -> JSONValue? {
        guard case .object(let given) = json, !values.pairs.isEmpty || !fileNames.isEmpty else { return nil }
        var filled = JSONObject()
        for (field, value) in values.pairs where given[field] == nil { filled[field] = value }
        for (field, path) in fileNames where given[field] == nil {
            if case .string(let text)? = given[path] { filled[field] = .string(Self.fileName(of: text)) }
        }
        return filled.pairs.isEmpty ? nil : .object(filled)
    }

    /// `/models/lora/coding.rkllm` -> `coding`.
    static func fileName(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }
}

/// The generated types are Codable through their JSON form: keys are the C field names, enums their
/// constants' names (or numbers), whatever coder a program uses (a client encodes an `RKLLMParam`
/// with `JSONEncoder` and sends it). The daemon's own path stays the byte-level one.
extension CRecordMirror {
    public init(from decoder: Decoder) throws {
        self = try decodingJSON(from: decoder) { try Self(json: $0, path: "") }
    }

    public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }
}

extension CEnumMirror {
    public init(from decoder: Decoder) throws {
        self = try decodingJSON(from: decoder) { try Self(json: $0, path: "") }
    }

    public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }
}

/// A value made from the JSON a decoder holds; what the JSON form refuses is the decoder's error.
private func decodingJSON<T>(from decoder: Decoder, _ make: (JSONValue) throws -> T) throws -> T {
    let json = try JSONValue(from: decoder)
    do {
        return try make(json)
    } catch let error as RPCError {
        throw DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.message))
    }
}
