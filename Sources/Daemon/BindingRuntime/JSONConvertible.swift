import Foundation

/// A Swift value with a JSON form: read with a path for error messages, written as `JSONValue`.
public protocol JSONConvertible {
    init(json: JSONValue, path: String) throws
    var json: JSONValue { get }
}

extension JSONConvertible {
    /// The JSON Schema type name, for messages.
    static var expected: String { String(describing: Self.self) }
}

/// Integers: exact, range-checked; an integral double (`3.0`) is accepted.
public protocol JSONInteger: JSONConvertible, FixedWidthInteger {}

extension JSONInteger {
    public init(json: JSONValue, path: String) throws {
        let value: Self?
        switch json {
        case .int, .uint, .double: value = CheckedNumbers.exactInteger(json)
        case .bool(let b): value = b ? 1 : 0
        default:
            throw RPCError.invalidParams(path, "expected an integer, got \(json.typeName)")
        }
        guard let value else {
            throw RPCError.invalidParams(path, "expected an integer in \(Self.min)...\(Self.max)")
        }
        self = value
    }

    public var json: JSONValue {
        if Self.isSigned || self <= Int64.max { return .int(Int64(truncatingIfNeeded: self)) }
        return .uint(UInt64(self))
    }
}

extension Int8: JSONInteger {}
extension Int16: JSONInteger {}
extension Int32: JSONInteger {}
extension Int64: JSONInteger {}
extension Int: JSONInteger {}
extension UInt8: JSONInteger {}
extension UInt16: JSONInteger {}
extension UInt32: JSONInteger {}
extension UInt64: JSONInteger {}
extension UInt: JSONInteger {}

extension Double: JSONConvertible {
    public init(json: JSONValue, path: String) throws {
        switch json {
        case .int(let i): self = Double(i)
        case .uint(let u): self = Double(u)
        case .double(let d): self = d
        default: throw RPCError.invalidParams(path, "expected a number, got \(json.typeName)")
        }
    }
    public var json: JSONValue { isFinite ? .double(self) : .null }
}

extension Float: JSONConvertible {
    public init(json: JSONValue, path: String) throws {
        let d = try Double(json: json, path: path)
        guard d.isNaN || abs(d) <= Double(Float.greatestFiniteMagnitude) || d.isInfinite else {
            throw RPCError.invalidParams(path, "number out of range for a 32-bit float")
        }
        self = Float(d)
    }
    public var json: JSONValue { isFinite ? .double(Double(self)) : .null }
}

extension Bool: JSONConvertible {
    public init(json: JSONValue, path: String) throws {
        switch json {
        case .bool(let b): self = b
        case .int(let i) where i == 0 || i == 1: self = i == 1
        default: throw RPCError.invalidParams(path, "expected a boolean, got \(json.typeName)")
        }
    }
    public var json: JSONValue { .bool(self) }
}

extension String: JSONConvertible {
    public init(json: JSONValue, path: String) throws {
        guard case .string(let s) = json else {
            throw RPCError.invalidParams(path, "expected a string, got \(json.typeName)")
        }
        self = s
    }
    public var json: JSONValue { .string(self) }
}

extension Optional: JSONConvertible where Wrapped: JSONConvertible {
    public init(json: JSONValue, path: String) throws {
        if case .null = json { self = nil } else { self = try Wrapped(json: json, path: path) }
    }
    public var json: JSONValue { self?.json ?? .null }
}

extension Array: JSONConvertible where Element: JSONConvertible {
    public init(json: JSONValue, path: String) throws {
        guard case .array(let items) = json else {
            throw RPCError.invalidParams(path, "expected an array, got \(json.typeName)")
        }
        self = try items.enumerated().map { try Element(json: $0.element, path: "\(path)[\($0.offset)]") }
    }
    public var json: JSONValue { .array(map(\.json)) }
}

/// Bytes travel as a base64 string.
public struct Bytes: JSONConvertible, Equatable, Sendable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8] = []) { self.bytes = bytes }

    public init(json: JSONValue, path: String) throws {
        guard case .string(let text) = json else {
            throw RPCError.invalidParams(path, "expected base64 text, got \(json.typeName)")
        }
        guard let data = Data(base64Encoded: text) else {
            throw RPCError.invalidParams(path, "not valid base64")
        }
        bytes = [UInt8](data)
    }
    public var json: JSONValue { .string(Data(bytes).base64EncodedString()) }
    public var count: Int { bytes.count }
}

/// An array of numbers that travels as base64 of its little-endian bytes (a JSON array of numbers
/// is accepted too).
public struct PackedArray<Element: JSONConvertible & BitwiseCopyable & Sendable>: JSONConvertible, Equatable, Sendable
where Element: Equatable {
    public var values: [Element]
    public init(_ values: [Element] = []) { self.values = values }

    public init(json: JSONValue, path: String) throws {
        if case .array = json {
            values = try [Element](json: json, path: path)
            return
        }
        let raw = try Bytes(json: json, path: path).bytes
        let size = MemoryLayout<Element>.size
        guard raw.count % size == 0 else {
            throw RPCError.invalidParams(path, "\(raw.count) bytes is not a whole number of \(size)-byte elements")
        }
        values = raw.withUnsafeBytes { buffer in
            (0..<raw.count / size).map { buffer.loadUnaligned(fromByteOffset: $0 * size, as: Element.self) }
        }
    }

    public var json: JSONValue {
        let raw = values.withUnsafeBytes { [UInt8]($0) }
        return Bytes(raw).json
    }
    public var count: Int { values.count }
}
