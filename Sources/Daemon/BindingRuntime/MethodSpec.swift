/// What a generated method is, apart from its call: its name, its C function, its parameters and
/// what the host must do around it (handles, streams, sharing). The daemon serves a runtime from
/// its methods' specs alone; the runtime host runs the `MethodEntry` made of a spec and its call.
public struct MethodSpec: Sendable {
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
    /// For a shared creating call: the member paths of its parameters that are file paths, with
    /// their kinds (the same file named two ways is one object).
    public let paths: [(path: [String], kind: String)]
    /// For a shared creating call: what the calls taking the object may give per run.
    public let perRun: PerRun?
    /// For a shared creating call: parameter -> the method (no parameters) whose `return` is its
    /// struct's defaults; clients whose parameters are equal once the defaults are filled in share.
    public let defaults: [String: String]
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
    /// What its callback returns to pause the run, when the runtime can pause one.
    public let pauseValue: Int64?
    /// The limit whose reaching ends its stream otherwise than a plain finish.
    public let streamLimit: StreamLimit?
    /// How the daemon routes its calls, known from its traits once the table is made.
    public let kind: Kind
    /// Other symbols the call needs (default-makers).
    public let needs: [String]
    /// What its failure codes mean, when its status group says.
    public let statuses: StatusNames?
    /// The answer of a method that needs no runtime, known from the headers (`get_constants`).
    public let answer: JSONValue?
    /// Its composite form, if the annotations declare one.
    public let composite: Composite?

    /// What an entry is besides its name, parameters and call, each listed only when it applies:
    /// the generated table describes an entry by its traits.
    public enum Trait: Sendable {
        case blocking
        case privileged
        /// Creates an object of this handle type, returned in this result member.
        case creates(String, in: String)
        /// Clients creating it with equal parameters share one object.
        case shared(instanceField: [String]?)
        /// File paths among its parameters: member path (dot-separated) -> path kind.
        case paths([String: String])
        case perRun(PerRun)
        case defaults([String: String])
        case holdsBytes([String])
        case destroys(String)
        case aborts(String)
        case sharedState(SharedStateEffect)
        case uses([String])
        case streams(String)
        /// Its callback returning this value pauses the run.
        case pauses(returning: Int64)
        case streamLimit(StreamLimit)
        case needs([String])
        case statuses(StatusNames)
        case composite(Composite)
    }

    public init(
        _ method: String, symbol: String?, params: [ParamSpec] = [], _ traits: [Trait] = [], answer: JSONValue? = nil
    ) {
        self.method = method
        self.symbol = symbol
        self.params = params
        self.answer = answer
        let read = TraitValues(traits)
        blocking = read.blocking
        privileged = read.privileged
        creates = read.creates
        shared = read.shared
        instanceField = read.instanceField
        perRun = read.perRun
        defaults = read.defaults
        statuses = read.statuses
        holdsBytes = read.holdsBytes
        resultHandle = read.resultHandle
        destroys = read.destroys
        aborts = read.aborts
        sharedState = read.sharedState
        uses = read.uses
        streams = read.streams
        needs = read.needs
        composite = read.composite
        pauseValue = read.pauseValue
        streamLimit = read.streamLimit
        paths = read.paths
        kind = Kind(
            creatingShared: read.creates != nil && read.shared, destroys: read.destroys, aborts: read.aborts,
            streams: read.streams)
    }

    /// The name errors give: the C function, or the method for a symbol-less entry.
    public var function: String { symbol ?? method }

    /// The params with each parameter given by another of its names (`ParamSpec.aliases`) given
    /// by its own; refused when both are given.
    public func canonicalNames(_ params: JSONValue?) throws -> JSONValue? {
        guard hasAliases, case .object(var object)? = params else { return params }
        for spec in self.params {
            for alias in spec.aliases {
                guard let value = object[alias.name] else { continue }
                guard object[spec.name] == nil else {
                    throw RPCError.invalidParams(
                        alias.name, "'\(alias.name)' is another name of '\(spec.name)': give one")
                }
                object[spec.name] = alias.member.map { .object([$0: value]) } ?? value
                object[alias.name] = nil
            }
        }
        return .object(object)
    }

    private var hasAliases: Bool { params.contains { !$0.aliases.isEmpty } }

    /// Refuses params of the wrong shape: not an array or object, more positional values than the
    /// method has parameters, or a name it does not have.
    public func checkShape(of params: JSONValue?) throws {
        switch params {
        case nil, .null?: return
        case .array(let items)?:
            guard items.count <= self.params.count else {
                throw RPCError(
                    code: RPCError.Code.invalidParams,
                    message: "invalid params: \(method) takes \(self.params.count) parameters, got \(items.count)",
                    data: .object(["expected": .array(self.params.map { .string($0.name) })]))
            }
        case .object(let object)?:
            let known = Set(self.params.map(\.name))
            for key in object.keys where !known.contains(key) {
                throw RPCError.invalidParams(key, "\(method) has no parameter '\(key)'")
            }
        case let other?:
            throw RPCError(
                code: RPCError.Code.invalidParams,
                message: "invalid params: expected an array or an object, got \(other.typeName)")
        }
    }
}

/// Members of a shared creating call's parameter that the calls taking the object can give per
/// run: clients whose creating calls differ only there share the object, and each client's calls
/// get its own values (else the defaults) where they give none.
public struct PerRun: Sendable {
    /// The creating call's parameter (its defaults: the spec's `defaults`), and the parameter of
    /// the calls taking the object.
    public let from: String
    public let to: String
    /// Member path in `from` -> member path in `to`.
    public let fields: [(from: [String], to: [String])]

    public init(from: String, to: String, fields: [String: String]) {
        self.from = from
        self.to = to
        let path = { (text: String) in text.split(separator: ".").map(String.init) }
        self.fields = fields.sorted { $0.key < $1.key }.map { (path($0.key), path($0.value)) }
    }
}

/// What the failure codes of a group of functions mean: the constant naming each (if the header
/// names it) and a sentence, with whose word the sentences are when not the header's.
public struct StatusNames: Sendable {
    private let codes: [Int64: (name: String?, meaning: String?)]
    public let source: String?

    public init(_ codes: [(Int64, String?, String?)], source: String? = nil) {
        self.codes = Dictionary(codes.map { ($0.0, (name: $0.1, meaning: $0.2)) }) { first, _ in first }
        self.source = source
    }

    public subscript(code: Int64) -> (name: String?, meaning: String?)? { codes[code] }
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
    /// Other names a request may give it by (by name).
    public let aliases: [Alias]

    /// Another name of a parameter; a value given by it is the parameter's value, or its `member`.
    public struct Alias: Sendable, Equatable {
        public let name: String
        public let member: String?

        public init(_ name: String, member: String? = nil) {
            self.name = name
            self.member = member
        }
    }

    public init(
        _ name: String, optional: Bool = false, handle: String? = nil, fd: Bool = false, aliases: [Alias] = []
    ) {
        self.name = name
        self.optional = optional
        self.handle = handle
        self.fd = fd
        self.aliases = aliases
    }
}

/// A streaming call's limit (the annotations' `stream_limit`): when the member `count` of its
/// final message reaches the first positive limit, the stream ends `ending` (`max_tokens`).
public struct StreamLimit: Sendable {
    public let ending: String
    public let count: [String]
    /// Member paths of the call's parameters (`onCreation` false), or of the parameters of the
    /// call that created its object.
    public let limits: [(path: [String], onCreation: Bool)]

    public init(_ ending: String, count: String, limit: [String]) {
        self.ending = ending
        self.count = count.split(separator: ".").map(String.init)
        self.limits = limit.map { text in
            let onCreation = text.hasPrefix("creation:")
            let path = onCreation ? String(text.dropFirst("creation:".count)) : text
            return (path.split(separator: ".").map(String.init), onCreation)
        }
    }
}

/// What a spec's traits say, gathered: each member as the trait that gives it says (or none).
private struct TraitValues {
    var (blocking, privileged, shared) = (false, false, false)
    var (creates, resultHandle, destroys, aborts, streams): (String?, String?, String?, String?, String?)
    var instanceField: [String]?
    var perRun: PerRun?
    var statuses: StatusNames?
    var composite: Composite?
    var pauseValue: Int64?
    var streamLimit: StreamLimit?
    var paths: [(path: [String], kind: String)] = []
    var defaults: [String: String] = [:]
    var (holdsBytes, uses, needs): ([String], [String], [String]) = ([], [], [])
    var sharedState = SharedStateEffect.none

    init(_ traits: [MethodSpec.Trait]) {
        for trait in traits {
            switch trait {
            case .blocking: blocking = true
            case .privileged: privileged = true
            case .creates(let type, let member): (creates, resultHandle) = (type, member)
            case .shared(let field): (shared, instanceField) = (true, field)
            case .perRun(let given): perRun = given
            case .paths(let members):
                paths = members.sorted { $0.key < $1.key }.map {
                    ($0.key.split(separator: ".").map(String.init), $0.value)
                }
            case .defaults(let methods): defaults = methods
            case .statuses(let names): statuses = names
            case .holdsBytes(let names): holdsBytes = names
            case .destroys(let type): destroys = type
            case .aborts(let type): aborts = type
            case .sharedState(let effect): sharedState = effect
            case .uses(let types): uses = types
            case .streams(let callback): streams = callback
            case .pauses(let value): pauseValue = value
            case .streamLimit(let limit): streamLimit = limit
            case .needs(let symbols): needs = symbols
            case .composite(let form): composite = form
            }
        }
    }
}
