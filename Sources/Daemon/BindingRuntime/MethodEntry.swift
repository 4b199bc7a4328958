/// One generated dispatch-table entry: a method's spec and its call. The call converts the JSON
/// parameters and calls the C function; what only the host can do (handles, callbacks, threads) it
/// asks for through `CallContext`, as the spec declares.
@dynamicMemberLookup
public struct MethodEntry: Sendable {
    public let spec: MethodSpec
    public let invoke: @Sendable (CallContext) throws -> JSONValue

    public init(_ spec: MethodSpec, invoke: @escaping @Sendable (CallContext) throws -> JSONValue) {
        self.spec = spec
        self.invoke = invoke
    }

    public subscript<Value>(dynamicMember path: KeyPath<MethodSpec, Value>) -> Value { spec[keyPath: path] }

    /// Converts the params, calls, and frees the call's C memory. `lookup` finds the entry's symbol
    /// and the default-makers it needs; a missing symbol answers "not present in this runtime".
    public func call(params: JSONValue?, host: CallHost, lookup: @escaping (String) -> UnsafeRawPointer?) throws
        -> JSONValue
    {
        var address: UnsafeRawPointer?
        if let symbol = spec.symbol {
            guard let found = lookup(symbol) else { throw RPCError.functionNotPresent(symbol) }
            address = found
        }
        let arena = Arena()
        defer { arena.release() }
        let context = try CallContext(
            entry: self, params: params, symbol: address, host: host, arena: arena, lookup: lookup)
        return try invoke(context)
    }
}

/// What the host provides to a call: handle ids, callback userdata, file descriptors.
public protocol CallHost: AnyObject {
    /// The raw value (pointer bits or integer) behind a handle id the client gave.
    func resolveHandle(_ id: JSONValue, type: String, path: String) throws -> UInt64
    /// A new handle id for a raw value the runtime returned.
    func registerHandle(_ raw: UInt64, type: String) -> JSONValue
    /// Forget a handle id after the runtime destroyed it.
    func releaseHandle(_ id: JSONValue, type: String)
    /// The userdata pointer for a streaming call; `value` is the client's userdata, echoed back.
    func callbackContext(for callback: String, value: JSONValue) throws -> UnsafeMutableRawPointer?
    /// The file descriptor the client passed as this parameter.
    func fileDescriptor(_ value: JSONValue, path: String) throws -> Int32
    /// A descriptor of the runtime's, in a result: the host passes a duplicate to the client beside
    /// the message and says how the JSON names it (its index there).
    func exportFileDescriptor(_ fd: Int32) throws -> JSONValue
    /// A file path of `kind` (an annotation's name, such as "model") the client gave, checked
    /// against the directories the host allows for that kind; the path the runtime gets.
    func confinePath(_ value: String, kind: String, path: String) throws -> String
    /// `symbol` of the plugin library `library` in the host's plugin directory (loaded for good).
    func plugin(library: String, symbol: String) throws -> UnsafeRawPointer
}
