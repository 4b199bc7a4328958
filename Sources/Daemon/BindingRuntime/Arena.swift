import Foundation

/// Owns the C memory one call needs (strings, arrays, structs passed by pointer) and frees all
/// of it at once. A call's arena lives until the call (and any read-back of out-values) is over.
public final class Arena {
    private var allocations: [UnsafeMutableRawPointer] = []
    /// Bytes handed out so far; `limit` bounds them.
    public private(set) var bytesAllocated = 0
    public let limit: Int
    /// Maps a path a client gave to the one the runtime may use (value, kind, parameter path), or
    /// throws; the call's host sets it. Without it, no path parameter is accepted.
    public var confinePath: ((String, String, String) throws -> String)?

    public init(limit: Int = 1 << 30) { self.limit = limit }

    deinit { release() }

    /// Frees everything; the arena can be used again.
    public func release() {
        for p in allocations { free(p) }
        allocations.removeAll()
        bytesAllocated = 0
    }

    /// Zeroed memory for `count` values of `T`, aligned for `T`.
    public func allocate<T>(_ type: T.Type, count: Int = 1) throws -> UnsafeMutablePointer<T> {
        let size = max(1, MemoryLayout<T>.stride * max(count, 1))
        guard bytesAllocated + size <= limit else {
            throw RPCError(
                code: RPCError.Code.invalidParams, message: "invalid params: arguments exceed \(limit) bytes")
        }
        let alignment = max(MemoryLayout<T>.alignment, MemoryLayout<Int>.alignment)
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, size) == 0, let raw else {
            throw RPCError(code: RPCError.Code.internalError, message: "out of memory")
        }
        memset(raw, 0, size)
        allocations.append(raw)
        bytesAllocated += size
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NUL-terminated copy; nil for nil. Strings with an embedded NUL are refused.
    public func cString(_ s: String?, path: String = "") throws -> UnsafeMutablePointer<CChar>? {
        guard let s else { return nil }
        let utf8 = Array(s.utf8)
        if utf8.contains(0) { throw RPCError.invalidParams(path, "string contains a NUL character") }
        let p = try allocate(CChar.self, count: utf8.count + 1)
        utf8.withUnsafeBufferPointer { src in
            UnsafeMutableRawPointer(p).copyMemory(from: src.baseAddress!, byteCount: utf8.count)
        }
        return p
    }

    /// A file path of `kind`, confined by the host, as a NUL-terminated copy; nil for nil.
    public func cString(_ s: String?, path: String, confinedTo kind: String) throws -> UnsafeMutablePointer<CChar>? {
        guard let s else { return nil }
        guard let confinePath else {
            throw RPCError(code: RPCError.Code.notPermitted, message: "\(path): no \(kind) paths are allowed here")
        }
        return try cString(try confinePath(s, kind, path), path: path)
    }

    /// One value in arena memory; nil for nil.
    public func single<T>(_ value: T?) throws -> UnsafeMutablePointer<T>? {
        guard let value else { return nil }
        let p = try allocate(T.self)
        p.initialize(to: value)
        return p
    }

    /// A C array of the values; nil for nil or empty.
    public func array<T>(_ values: [T]?) throws -> UnsafeMutablePointer<T>? {
        guard let values, !values.isEmpty else { return nil }
        let p = try allocate(T.self, count: values.count)
        values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: values.count) }
        return p
    }

    /// A byte buffer; nil for empty.
    public func bytes(_ bytes: Bytes?) throws -> UnsafeMutableRawPointer? {
        try array(bytes?.bytes).map(UnsafeMutableRawPointer.init)
    }
}

/// Reading C values into Swift: strings, counted arrays, fixed arrays imported as tuples.
public enum CRead {
    /// Set while a callback's message is built: its strings are pieces of one UTF-8 stream.
    @TaskLocal public static var textStream: UTF8Stream?

    public static func string(_ p: UnsafePointer<CChar>?) -> String? {
        guard let p else { return nil }
        return textStream?.decode(p) ?? String(cString: p)
    }
    public static func string(_ p: UnsafeMutablePointer<CChar>?) -> String? { string(UnsafePointer(p)) }

    public static func array<T>(_ p: UnsafePointer<T>?, count: Int) -> [T] {
        guard let p, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: count))
    }
    public static func array<T>(_ p: UnsafeMutablePointer<T>?, count: Int) -> [T] {
        array(UnsafePointer(p), count: count)
    }

    public static func bytes(_ p: UnsafeMutableRawPointer?, count: Int) -> Bytes {
        guard let p, count > 0 else { return Bytes() }
        return Bytes(Array(UnsafeRawBufferPointer(start: p, count: count)))
    }

    // Fixed arrays are reached through a key path into the record, never copied out as a tuple
    // value in generated code: Swift 6's region analysis tracks every element of a concrete tuple,
    // and an 8192-element one (`rknn_input_range.dyn_range`) took minutes to compile.

    /// The elements of a C fixed array field (a Swift tuple), flattened.
    public static func fixed<Record, Tuple, T>(_ record: Record, _ field: KeyPath<Record, Tuple>, as: T.Type) -> [T] {
        withUnsafeBytes(of: record[keyPath: field]) { Array($0.bindMemory(to: T.self)) }
    }

    /// A `char[N]` field as a string, up to the first NUL.
    public static func fixedString<Record, Tuple>(_ record: Record, _ field: KeyPath<Record, Tuple>) -> String {
        withUnsafeBytes(of: record[keyPath: field]) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// Writing Swift values into C fixed arrays (tuples), with bounds checked.
public enum CWrite {
    /// The product of counts C will use as sizes; nil when one is negative (C reads it as a huge
    /// size) or the product overflows: more than any buffer holds.
    public static func product(_ counts: [Int]) -> Int? {
        var total = 1
        for n in counts {
            guard n >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: n)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// An array the runtime reads at least the product of `counts` (name, value) elements from:
    /// it must hold them.
    public static func requireElements(_ have: Int, atLeast counts: [(String, Int)], path: String) throws {
        let needed = product(counts.map(\.1))
        guard let needed, needed <= have else {
            let names = counts.map(\.0).joined(separator: " x ")
            throw RPCError.invalidParams(
                path, "holds \(have) elements; \(names) = \(needed.map(String.init) ?? "more than any buffer") are read"
            )
        }
    }

    public static func fixed<Record, Tuple, T>(
        _ values: [T], into record: inout Record, _ field: WritableKeyPath<Record, Tuple>,
        path: String
    ) throws {
        let capacity = MemoryLayout<Tuple>.size / MemoryLayout<T>.stride
        guard values.count <= capacity else {
            throw RPCError.invalidParams(path, "at most \(capacity) elements, got \(values.count)")
        }
        withUnsafeMutableBytes(of: &record[keyPath: field]) { raw in
            let typed = raw.bindMemory(to: T.self)
            for (i, v) in values.enumerated() { typed[i] = v }
        }
    }

    /// A string into `char[N]`: at most N-1 bytes, NUL-terminated.
    public static func fixedString<Record, Tuple>(
        _ s: String, into record: inout Record, _ field: WritableKeyPath<Record, Tuple>,
        path: String
    ) throws {
        let utf8 = Array(s.utf8)
        let capacity = MemoryLayout<Tuple>.size
        guard utf8.count < capacity else {
            throw RPCError.invalidParams(path, "at most \(capacity - 1) bytes, got \(utf8.count)")
        }
        guard !utf8.contains(0) else { throw RPCError.invalidParams(path, "string contains a NUL character") }
        withUnsafeMutableBytes(of: &record[keyPath: field]) { raw in
            raw.copyBytes(from: utf8)
            raw[utf8.count] = 0
        }
    }
}
