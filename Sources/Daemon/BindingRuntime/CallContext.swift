import Glibc

/// One call of a generated entry: its parameters in either JSON-RPC form, the arena for its C
/// memory, the host, and the symbol lookup. Not shared between threads.
public final class CallContext {
    public let entry: MethodEntry
    private let symbol: UnsafeRawPointer?
    public let arena: Arena
    public let host: CallHost
    private let lookup: (String) -> UnsafeRawPointer?
    private let positional: [JSONValue]?
    private let named: JSONObject?

    /// Checks the params' shape against the entry: too many positional values or unknown names are errors.
    public init(
        entry: MethodEntry, params: JSONValue?, symbol: UnsafeRawPointer?, host: CallHost,
        arena: Arena = Arena(), lookup: @escaping (String) -> UnsafeRawPointer?
    ) throws {
        self.entry = entry
        self.symbol = symbol
        self.host = host
        self.arena = arena
        self.lookup = lookup
        arena.confinePath = { [unowned host] value, kind, path in try host.confinePath(value, kind: kind, path: path) }
        try entry.spec.checkShape(of: params)
        switch params {
        case .array(let items)?: (positional, named) = (items, nil)
        case .object(let object)?: (positional, named) = (nil, object)
        default: (positional, named) = ([], nil)
        }
    }

    /// The plugins an array parameter names: each element's `member` (nil when it is omitted).
    public func pluginNames(_ index: Int, _ name: String, member: String) throws -> [String]? {
        guard let value = try raw(index, name), value != .null else { return nil }
        guard case .array(let items) = value else {
            throw RPCError.invalidParams(name, "an array of objects naming plugins by '\(member)'")
        }
        return try items.enumerated().map { k, item in
            guard case .string(let plugin)? = item[member], !plugin.isEmpty else {
                throw RPCError.invalidParams("\(name)[\(k)].\(member)", "the name of a plugin")
            }
            return plugin
        }
    }

    /// A function of a server-side plugin library, loaded by the host.
    public func plugin<F>(library: String, symbol: String, as type: F.Type) throws -> F {
        unsafeBitCast(try host.plugin(library: library, symbol: symbol), to: F.self)
    }

    /// Another C function the entry needs (listed in its `needs`), as its typed function pointer.
    public func function<F>(named symbol: String, _ type: F.Type) throws -> F {
        guard let address = lookup(symbol) else { throw RPCError.functionNotPresent(symbol) }
        return unsafeBitCast(address, to: F.self)
    }

    /// The entry's C function as its typed function pointer.
    public func function<F>(_ type: F.Type) -> F {
        guard let symbol else { preconditionFailure("\(entry.method) has no C symbol") }
        return unsafeBitCast(symbol, to: F.self)
    }

    /// The parameter at `index` (positional) or `name` (named); nil when omitted.
    public func raw(_ index: Int, _ name: String) throws -> JSONValue? {
        let value = positional.map { index < $0.count ? $0[index] : nil } ?? named?[name]
        if value == nil, let spec = entry.params.first(where: { $0.name == name }), !spec.optional {
            throw RPCError.invalidParams(name, "missing")
        }
        return value
    }

    public func value<T: JSONConvertible>(_ index: Int, _ name: String, as type: T.Type) throws -> T {
        guard let json = try raw(index, name) else { throw RPCError.invalidParams(name, "missing") }
        return try T(json: json, path: name)
    }

    public func optional<T: JSONConvertible>(_ index: Int, _ name: String, as type: T.Type) throws -> T? {
        guard let json = try raw(index, name), json != .null else { return nil }
        return try T(json: json, path: name)
    }

    /// A struct parameter: omitted fields take the default-maker's values (zero where there is none).
    public func record<T: CRecordMirror>(_ index: Int, _ name: String, as type: T.Type) throws -> T? {
        guard let json = try raw(index, name), json != .null else { return nil }
        var value = defaults(T.self)
        try value.applyGiven(json, path: name)
        return value
    }

    public func records<T: CRecordMirror>(_ index: Int, _ name: String, as type: T.Type) throws -> [T]? {
        guard let json = try raw(index, name), json != .null else { return nil }
        guard case .array(let items) = json else {
            throw RPCError.invalidParams(name, "expected an array, got \(json.typeName)")
        }
        return try items.enumerated().map { i, item in
            var value = defaults(T.self)
            if let field = T.positionField { try value.apply(.object([field: .int(Int64(i))]), path: "\(name)[\(i)]") }
            try value.applyGiven(item, path: "\(name)[\(i)]")
            return value
        }
    }

    /// A `void*` parameter whose struct another parameter selected (`T`), in and out: its C value
    /// in the arena (the JSON's fields over the defaults), its size, and how to read it back.
    public func selected<T: CRecordMirror>(_ index: Int, _ name: String, as type: T.Type) throws -> (
        pointer: UnsafeMutableRawPointer, size: Int, read: () -> JSONValue
    ) {
        let value = try arena.allocate(T.CValue.self)
        value.initialize(to: try (record(index, name, as: T.self) ?? defaults(T.self)).cValue(arena))
        return (UnsafeMutableRawPointer(value), MemoryLayout<T.CValue>.size, { T(value.pointee).json })
    }

    public func defaults<T: CRecordMirror>(_ type: T.Type) -> T {
        guard let maker = T.defaultMaker, let symbol = lookup(maker) else { return T() }
        return T.makeDefault(symbol)
    }

    public func handle(_ index: Int, _ name: String, type: String) throws -> UInt64 {
        try host.resolveHandle(try raw(index, name) ?? .null, type: type, path: name)
    }

    public func releaseHandle(_ index: Int, _ name: String, type: String) throws {
        host.releaseHandle(try raw(index, name) ?? .null, type: type)
    }

    public func callbackContext(_ index: Int, _ name: String, callback: String) throws -> UnsafeMutableRawPointer? {
        try host.callbackContext(for: callback, value: try raw(index, name) ?? .null)
    }

    public func fileDescriptor(_ index: Int, _ name: String) throws -> Int32 {
        guard let json = try raw(index, name) else { throw RPCError.invalidParams(name, "missing") }
        return try host.fileDescriptor(json, path: name)
    }

    /// Before a function maps `bytes` of descriptor `fd`: it must hold them and must not be able to
    /// shrink under the mapping (that would kill the runtime host with SIGBUS on a later access). A
    /// memfd is sealed against shrinking (refused when it does not allow sealing: MFD_ALLOW_SEALING);
    /// a plain file, which can always shrink, is refused; other kinds (a DMA-BUF) cannot shrink.
    public func checkMapped(_ fd: Int32, bytes: Int64, _ name: String) throws {
        guard bytes >= 0 else { throw RPCError.invalidParams(name, "the mapped extent is negative") }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw RPCError.invalidParams(name, "not an open file descriptor") }
        guard info.st_mode & S_IFMT == S_IFREG else { return }
        let getSeals: Int32 = 1034
        let addSeals: Int32 = 1033
        let sealShrink: Int32 = 0x0002  // F_GET_SEALS, F_ADD_SEALS, F_SEAL_SHRINK
        let seals = fcntl(fd, getSeals)
        guard seals >= 0 else {
            throw RPCError.invalidParams(name, "a plain file can shrink under the runtime's mapping: send a memfd")
        }
        if seals & sealShrink == 0 && fcntl(fd, addSeals, sealShrink) != 0 {
            throw RPCError.invalidParams(
                name,
                "a memfd the runtime maps must not shrink: create it with MFD_ALLOW_SEALING or seal it (F_SEAL_SHRINK)")
        }
        guard fstat(fd, &info) == 0, Int64(info.st_size) >= bytes else {
            throw RPCError.invalidParams(name, "the descriptor holds \(info.st_size) bytes; \(bytes) are mapped")
        }
    }

    /// `json` (an object) with each descriptor field replaced by what the host exported it as.
    public func exportingDescriptors(_ json: JSONValue, _ fields: [(String, Int32)]) throws -> JSONValue {
        guard case .object(var object) = json else { return json }
        for (name, fd) in fields where fd >= 0 {
            object[name] = try host.exportFileDescriptor(fd)
        }
        return .object(object)
    }

    /// A JSON-only count for an out array, within `1...max`.
    public func count(_ index: Int, _ name: String, default value: Int, max: Int) throws -> Int {
        guard let json = try raw(index, name), json != .null else { return value }
        let n = try Int(json: json, path: name)
        guard (1...max).contains(n) else { throw RPCError.invalidParams(name, "expected 1...\(max), got \(n)") }
        return n
    }

    /// A buffer parameter, or (where the C function allows it) a path string meaning length 0.
    public enum BufferOrPath {
        case bytes(Bytes)
        case path(String)
    }

    public func bufferOrPath(_ index: Int, _ name: String) throws -> BufferOrPath? {
        guard let json = try raw(index, name), json != .null else { return nil }
        if case .object(let object) = json, let path = object["path"] {
            return .path(try String(json: path, path: "\(name).path"))
        }
        if case .object(let object) = json, let data = object["base64"] {
            return .bytes(try Bytes(json: data, path: "\(name).base64"))
        }
        throw RPCError.invalidParams(name, "expected {\"path\": ...} or {\"base64\": ...}")
    }

    /// A buffer of `have` bytes that the function reads `elements`' product of `bits`-bit values
    /// from (and writes as many to a buffer of the same size): shorter is refused before the call.
    public func requireBytes(_ have: Int, elements: [Int64], bits: Int, _ name: String) throws {
        let needed = CWrite.product(elements.map { Int(truncatingIfNeeded: $0) } + [bits]).map { ($0 + 7) / 8 }
        guard let needed, needed <= have else {
            throw RPCError.invalidParams(
                name, "holds \(have) bytes; the function reads \(needed.map(String.init) ?? "more than any buffer")")
        }
    }

    /// Throws the runtime's status as a JSON-RPC error when it means failure, with what the call
    /// was given.
    public func check(status: Int64, negativeIsError: Bool) throws {
        if negativeIsError ? status < 0 : status != 0 {
            var error = RPCError.runtimeError(function: entry.function, status: status, statuses: entry.statuses)
            error.data = error.data.map { Self.adding(arguments, to: $0) }
            throw error
        }
    }

    public func nullResult() -> RPCError {
        RPCError(
            code: RPCError.Code.runtimeError, message: "\(entry.function) returned NULL",
            data: Self.adding(arguments, to: ["function": .string(entry.function)]))
    }

    /// The parameters the call was given, by name and in short (`ArgumentSummary`), less the
    /// handles (the runtime host's own numbers mean nothing to a client).
    private var arguments: JSONValue {
        var given = JSONObject()
        for (index, spec) in entry.params.enumerated() where spec.handle == nil {
            let value = positional.map { index < $0.count ? $0[index] : nil } ?? named?[spec.name]
            if let value, value != .null { given[spec.name] = ArgumentSummary.of(value) }
        }
        return .object(given)
    }

    private static func adding(_ arguments: JSONValue, to data: JSONValue) -> JSONValue {
        guard case .object(var object) = data, case .object(let given) = arguments, !given.pairs.isEmpty else {
            return data
        }
        object["arguments"] = arguments
        return .object(object)
    }
}
