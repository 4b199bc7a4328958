/// One generated dispatch-table entry: a C function as a JSON-RPC method. The entry converts and
/// calls; what only the host can do (handles, callbacks, threads) it asks for through `CallContext`
/// and declares in its fields.
public struct MethodEntry: Sendable {
    /// `rkllm.run`.
    public let method: String
    /// `rkllm_run`: the symbol resolved with dlsym; nil for an entry that needs no runtime
    /// (`get_constants`, answered from the headers).
    public let symbol: String?
    /// The JSON parameters in positional order (C order, without out-parameters, lengths and callbacks).
    public let params: [ParamSpec]
    /// Run it off the event loop: it may take long.
    public let blocking: Bool
    /// Only peers with uid 0 may call it.
    public let privileged: Bool
    /// The handle type a successful call creates, the result member holding it, and the handle
    /// type the call destroys.
    public let creates: String?
    /// A creating call whose object clients share when their parameters are equal, and the member
    /// path of its parameters that must differ between live objects (nil: none).
    public let shared: Bool
    public let instanceField: [String]?
    /// For a creating call: the parameters whose product is the bytes the new object holds in
    /// its runtime host (the client's memory quota counts them).
    public let holdsBytes: [String]
    public let resultHandle: String?
    public let destroys: String?
    /// The handle type whose running stream the call stops (the annotations' `abort`).
    public let aborts: String?
    /// What the call does to the state other users of a shared object see (its settings, a
    /// conversation): the host keeps each client's apart.
    public let sharedState: SharedStateEffect
    /// Handle types the call takes.
    public let uses: [String]
    /// The host-supplied callback typedef whose userdata this call passes (a streaming call).
    public let streams: String?
    /// Other symbols the call needs (default-makers).
    public let needs: [String]
    public let invoke: @Sendable (CallContext) throws -> JSONValue

    /// What an entry is besides its name, parameters and call, each listed only when it applies:
    /// the generated table describes an entry by its traits.
    public enum Trait: Sendable {
        case blocking
        case privileged
        /// Creates an object of this handle type, returned in this result member.
        case creates(String, in: String)
        /// Clients creating it with equal parameters share one object.
        case shared(instanceField: [String]?)
        case holdsBytes([String])
        case destroys(String)
        case aborts(String)
        case sharedState(SharedStateEffect)
        case uses([String])
        case streams(String)
        case needs([String])
    }

    public init(
        _ method: String, symbol: String?, params: [ParamSpec] = [], _ traits: [Trait] = [],
        invoke: @escaping @Sendable (CallContext) throws -> JSONValue
    ) {
        self.method = method
        self.symbol = symbol
        self.params = params
        self.invoke = invoke
        var (blocking, privileged, shared) = (false, false, false)
        var (creates, resultHandle, destroys, aborts, streams): (String?, String?, String?, String?, String?)
        var instanceField: [String]?
        var (holdsBytes, uses, needs): ([String], [String], [String]) = ([], [], [])
        var sharedState = SharedStateEffect.none
        for trait in traits {
            switch trait {
            case .blocking: blocking = true
            case .privileged: privileged = true
            case .creates(let type, let member): (creates, resultHandle) = (type, member)
            case .shared(let field): (shared, instanceField) = (true, field)
            case .holdsBytes(let names): holdsBytes = names
            case .destroys(let type): destroys = type
            case .aborts(let type): aborts = type
            case .sharedState(let effect): sharedState = effect
            case .uses(let types): uses = types
            case .streams(let callback): streams = callback
            case .needs(let symbols): needs = symbols
            }
        }
        self.blocking = blocking
        self.privileged = privileged
        self.creates = creates
        self.shared = shared
        self.instanceField = instanceField
        self.holdsBytes = holdsBytes
        self.resultHandle = resultHandle
        self.destroys = destroys
        self.aborts = aborts
        self.sharedState = sharedState
        self.uses = uses
        self.streams = streams
        self.needs = needs
    }

    /// The name errors give: the C function, or the method for a symbol-less entry.
    public var function: String { symbol ?? method }

    /// Converts the params, calls, and frees the call's C memory. `lookup` finds the entry's symbol
    /// and the default-makers it needs; a missing symbol answers "not present in this runtime".
    public func call(params: JSONValue?, host: CallHost, lookup: @escaping (String) -> UnsafeRawPointer?) throws
        -> JSONValue
    {
        var address: UnsafeRawPointer?
        if let symbol {
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

/// What a call on a shared object does to the state its users see.
public enum SharedStateEffect: Sendable, Equatable {
    case none
    case changes
    /// Changes it when the member at this path of the call's parameters is nonzero.
    case changesWhen([String])
}

public struct ParamSpec: Sendable, Equatable {
    public let name: String
    /// May be omitted (taken as null).
    public let optional: Bool
    /// The handle type this parameter carries (an id the host resolves), if any.
    public let handle: String?
    /// The value is a file descriptor the client passes beside the message (SCM_RIGHTS).
    public let fd: Bool
    public init(_ name: String, optional: Bool = false, handle: String? = nil, fd: Bool = false) {
        self.name = name
        self.optional = optional
        self.handle = handle
        self.fd = fd
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
