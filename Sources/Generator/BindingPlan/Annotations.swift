import APIModel
import Foundation

/// What C cannot say, declared beside the headers (`annotations.json`). Every key names C
/// declarations; nothing here is specific to one library.
public struct Annotations: Codable, Sendable, Equatable {
    /// Per function, by exact name or by a `prefix*` pattern (exact names win, then longer patterns).
    public var functions: [String: FunctionAnnotation]
    /// Handle types (typedef or record names) with the functions that create and destroy them.
    public var handles: [String: HandleAnnotation]
    /// Callback typedefs the host supplies: which parameter is the userdata.
    public var callbacks: [String: CallbackAnnotation]
    /// Struct fields, as `Record.field`: pointer arrays, buffers, fields kept out of JSON.
    public var fields: [String: FieldAnnotation]
    /// Tag fields selecting the member of an anonymous union, by record name.
    public var unions: [String: UnionAnnotation]
    /// Record name -> the function that returns its defaults by value.
    public var defaultMakers: [String: String]
    /// The runtimes, by their methods' namespace, and the settings they name.
    public var runtimes: [String: RuntimeAnnotation]
    public var settings: [String: SettingAnnotation]
    /// Named groups of failure statuses: what each code a function returns means.
    public var statuses: [String: StatusGroupAnnotation]
    /// The SDK version these headers declare (`1.2.3`): a library of another major.minor speaks
    /// another ABI.
    public var abiVersion: String?

    enum CodingKeys: String, CodingKey {
        case functions, handles, callbacks, fields, unions, runtimes, settings, statuses
        case defaultMakers = "default_makers"
        case abiVersion = "abi_version"
    }

    public init(
        functions: [String: FunctionAnnotation] = [:], handles: [String: HandleAnnotation] = [:],
        callbacks: [String: CallbackAnnotation] = [:], fields: [String: FieldAnnotation] = [:],
        unions: [String: UnionAnnotation] = [:], defaultMakers: [String: String] = [:],
        runtimes: [String: RuntimeAnnotation] = [:], settings: [String: SettingAnnotation] = [:]
    ) {
        self.functions = functions
        self.handles = handles
        self.callbacks = callbacks
        self.fields = fields
        self.unions = unions
        self.defaultMakers = defaultMakers
        self.runtimes = runtimes
        self.settings = settings
        self.statuses = [:]
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        functions = try c.decodeIfPresent([String: FunctionAnnotation].self, forKey: .functions) ?? [:]
        handles = try c.decodeIfPresent([String: HandleAnnotation].self, forKey: .handles) ?? [:]
        callbacks = try c.decodeIfPresent([String: CallbackAnnotation].self, forKey: .callbacks) ?? [:]
        fields = try c.decodeIfPresent([String: FieldAnnotation].self, forKey: .fields) ?? [:]
        unions = try c.decodeIfPresent([String: UnionAnnotation].self, forKey: .unions) ?? [:]
        defaultMakers = try c.decodeIfPresent([String: String].self, forKey: .defaultMakers) ?? [:]
        runtimes = try c.decodeIfPresent([String: RuntimeAnnotation].self, forKey: .runtimes) ?? [:]
        settings = try c.decodeIfPresent([String: SettingAnnotation].self, forKey: .settings) ?? [:]
        statuses = try c.decodeIfPresent([String: StatusGroupAnnotation].self, forKey: .statuses) ?? [:]
        abiVersion = try c.decodeIfPresent(String.self, forKey: .abiVersion)
    }

    /// The file with what it includes merged in (`"include"`: other annotation files, paths relative
    /// to it, that it builds on): member by member, the including file's values over the included
    /// ones', so a version's file holds only what differs from what its versions share (one member
    /// of an entry, such as a handle's `per_run`, changes that member alone).
    public static func load(_ url: URL) throws -> Annotations {
        let merged = try object(url, including: [])
        do {
            return try JSONDecoder().decode(Annotations.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch let error as DecodingError {
            throw AnnotationError(file: url.path, message: Self.describe(error))
        }
    }

    private static func object(_ url: URL, including chain: [String]) throws -> [String: Any] {
        guard !chain.contains(url.standardized.path) else {
            throw AnnotationError(file: url.path, message: "include: \(url.path) includes itself")
        }
        guard let own = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw AnnotationError(file: url.path, message: "not a JSON object")
        }
        guard let includes = own["include"] as? [String] ?? (own["include"] == nil ? [] : nil) else {
            throw AnnotationError(file: url.path, message: "include: a list of files")
        }
        var merged: [String: Any] = [:]
        for path in includes {
            merged = Self.merge(
                try object(Self.resolve(path, from: url), including: chain + [url.standardized.path]), over: merged)
        }
        merged = Self.merge(own, over: merged)
        merged["include"] = nil
        return merged
    }

    /// `top` over `base`: objects member by member, any other value replaced.
    private static func merge(_ top: [String: Any], over base: [String: Any]) -> [String: Any] {
        base.merging(top) { below, above in
            guard let above = above as? [String: Any], let below = below as? [String: Any] else { return above }
            return merge(above, over: below)
        }
    }

    private static func resolve(_ path: String, from file: URL) -> URL {
        path.hasPrefix("/")
            ? URL(fileURLWithPath: path) : file.deletingLastPathComponent().appendingPathComponent(path).standardized
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            let path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return "\(path): \(c.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// The annotation that applies to a function: exact name first, else the longest matching pattern.
    /// Patterned and exact entries merge, exact keys winning.
    public func function(_ name: String) -> FunctionAnnotation {
        let patterns = functions.keys.filter { $0.hasSuffix("*") && name.hasPrefix($0.dropLast()) }
            .sorted { $0.count < $1.count }
        var merged = FunctionAnnotation()
        for key in patterns + (functions[name] != nil ? [name] : []) {
            merged.merge(functions[key]!)
        }
        return merged
    }
}

public struct AnnotationError: Error, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file):1: error: \(message)" }
}

public struct FunctionAnnotation: Codable, Sendable, Equatable {
    /// How the integer return value reports failure: `nonzero_is_error`, `negative_is_error`,
    /// `null_is_error` (pointer results) or `none` (a plain value).
    public var status: String?
    /// The call may take long: the host runs it off the event loop.
    public var blocking: Bool?
    /// Per parameter: `in`, `out`, `inout`, or an object.
    public var params: [String: ParamAnnotation]?
    /// A function that frees what this call handed out, taking this call's leading arguments: the
    /// host calls it as soon as the results are read into JSON (the client gets a copy).
    public var releaseWith: String?
    /// Only peers with uid 0 may call it (it reaches memory or devices directly).
    public var privileged: Bool?
    /// For a creating call: integer parameters whose product is how many bytes the new object
    /// holds in its runtime host (counted against the client's memory quota).
    public var holds: [String]?
    /// What the result means when the header says it only in a comment (a meaning can change
    /// between versions where the type does not: the upgrade diff reports it).
    public var meaning: String?
    /// The status group (`statuses`) that says what its failure codes mean.
    public var statuses: String?
    /// Another form of its method, by name only: parameters of its own that make the call run
    /// several functions in order.
    public var composite: CompositeAnnotation?
    /// For a streaming call: a limit whose reaching ends its stream otherwise than a plain finish.
    public var streamLimit: StreamLimitAnnotation?

    enum CodingKeys: String, CodingKey {
        case status, blocking, params, privileged, holds, meaning, statuses, composite
        case releaseWith = "release_with"
        case streamLimit = "stream_limit"
    }

    public init(
        status: String? = nil, blocking: Bool? = nil, params: [String: ParamAnnotation]? = nil,
        releaseWith: String? = nil
    ) {
        self.status = status
        self.blocking = blocking
        self.params = params
        self.releaseWith = releaseWith
    }

    mutating func merge(_ other: FunctionAnnotation) {
        status = other.status ?? status
        blocking = other.blocking ?? blocking
        releaseWith = other.releaseWith ?? releaseWith
        privileged = other.privileged ?? privileged
        holds = other.holds ?? holds
        meaning = other.meaning ?? meaning
        statuses = other.statuses ?? statuses
        composite = other.composite ?? composite
        streamLimit = other.streamLimit ?? streamLimit
        if let p = other.params { params = (params ?? [:]).merging(p) { $1 } }
    }
}

/// What the failure codes of a group of functions mean: the header's constants of a prefix
/// (`RKNN_ERR_`) name them, and `meanings` says each in a sentence, by constant name or, for a
/// runtime whose header names none, by code (`"-7"`); `source` says whose word that is.
public struct StatusGroupAnnotation: Codable, Sendable, Equatable {
    public var constants: String?
    public var meanings: [String: String]
    public var source: String?
}

public struct ParamAnnotation: Codable, Sendable, Equatable {
    /// `in`, `out` or `inout`.
    public var direction: String?
    /// For a pointer to an array: the parameter holding its element count, or omitted when the
    /// count is only the JSON array's length.
    public var count: String?
    /// A pointer to an array whose length only the JSON array gives.
    public var array: Bool?
    /// For an out array whose length no parameter gives: a JSON-only parameter that sets it.
    public var countParam: CountParam?
    /// The pointer is a byte buffer (`void*`), JSON base64; `length` names its length parameter.
    public var buffer: Bool?
    public var length: String?
    /// An out buffer as long as another buffer parameter.
    public var sameSizeAs: String?
    /// A string given instead of the buffer means "a path", passed with length 0.
    public var stringMeansZeroLength: Bool?
    /// The parameter is the userdata of this host-supplied callback typedef.
    public var callbackContext: String?
    /// This parameter is the host-supplied callback.
    public var callback: Bool?
    /// The struct type of a `void*` selected by another parameter's enum value.
    public var typeBy: TypeSelector?
    /// This parameter is the byte size of that parameter's selected type.
    public var sizeOf: String?
    /// Always NULL: not exposed over JSON.
    public var null: Bool?
    /// The value is a file descriptor the client passes beside the message.
    public var fd: Bool?
    /// For an fd the function maps: the integer parameters whose sum is how many of its bytes it
    /// maps (`["size", "offset"]`). The host checks the descriptor holds them and cannot shrink.
    public var maps: [String]?
    /// For a buffer: how many bytes the function reads from it (and writes to a buffer of the same
    /// size): the host refuses a shorter one before the call.
    public var bytes: ByteSizeAnnotation?
    /// A `const char*` that is a file path of this kind (a name the host maps to directories).
    public var path: String?
    /// An array of structs made by server-side plugins: the client names each plugin, the host
    /// loads it and calls its maker; the client never sends the struct (or code).
    public var plugin: PluginAnnotation?
    /// A pointer to a struct of callbacks: per function-pointer field, whether the host supplies
    /// it (`{}`) or leaves it NULL and why (`{"null": "..."}`). Their userdata fields stay NULL: a
    /// call passes its own.
    public var callbacks: [String: CallbackFieldAnnotation]?
    /// A number the client may leave out, and the value it then is.
    public var `default`: Int64?
    /// Whether the client must give it, where the C type alone does not say (a buffer the call
    /// cannot do without).
    public var required: Bool?
    /// Other names a request may give it by, each with the member of the value it gives (`"."`:
    /// the value itself): `{"model_path": "path"}` takes `"model_path": p` for `"model": {"path": p}`.
    public var aliases: [String: String]?

    enum CodingKeys: String, CodingKey {
        case direction, count, array, buffer, length, callback, null, fd, maps, bytes, path, plugin, callbacks
        case `default`, required, aliases
        case countParam = "count_param"
        case sameSizeAs = "same_size_as"
        case stringMeansZeroLength = "string_means_zero_length"
        case callbackContext = "callback_context"
        case typeBy = "type_by"
        case sizeOf = "size_of"
    }

    public init(direction: String? = nil) { self.direction = direction }

    /// `"in"` is short for `{"direction": "in"}`.
    public init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let word = try? single.decode(String.self) {
            self.init(direction: word)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(direction: try c.decodeIfPresent(String.self, forKey: .direction))
        count = try c.decodeIfPresent(String.self, forKey: .count)
        array = try c.decodeIfPresent(Bool.self, forKey: .array)
        countParam = try c.decodeIfPresent(CountParam.self, forKey: .countParam)
        buffer = try c.decodeIfPresent(Bool.self, forKey: .buffer)
        length = try c.decodeIfPresent(String.self, forKey: .length)
        sameSizeAs = try c.decodeIfPresent(String.self, forKey: .sameSizeAs)
        stringMeansZeroLength = try c.decodeIfPresent(Bool.self, forKey: .stringMeansZeroLength)
        callbackContext = try c.decodeIfPresent(String.self, forKey: .callbackContext)
        callback = try c.decodeIfPresent(Bool.self, forKey: .callback)
        typeBy = try c.decodeIfPresent(TypeSelector.self, forKey: .typeBy)
        sizeOf = try c.decodeIfPresent(String.self, forKey: .sizeOf)
        null = try c.decodeIfPresent(Bool.self, forKey: .null)
        fd = try c.decodeIfPresent(Bool.self, forKey: .fd)
        maps = try c.decodeIfPresent([String].self, forKey: .maps)
        bytes = try c.decodeIfPresent(ByteSizeAnnotation.self, forKey: .bytes)
        path = try c.decodeIfPresent(String.self, forKey: .path)
        plugin = try c.decodeIfPresent(PluginAnnotation.self, forKey: .plugin)
        callbacks = try c.decodeIfPresent([String: CallbackFieldAnnotation].self, forKey: .callbacks)
        `default` = try c.decodeIfPresent(Int64.self, forKey: .default)
        required = try c.decodeIfPresent(Bool.self, forKey: .required)
        aliases = try c.decodeIfPresent([String: String].self, forKey: .aliases)
    }
}

/// A streaming call's limit: when the member `count` of its final message reaches the first
/// positive value of `limit` (member paths of the call's parameters, or, after `creation:`, of the
/// parameters of the call that created its handle), the stream ends `ending` instead of `finished`
/// (`max_tokens`: the reply was cut at the limit).
public struct StreamLimitAnnotation: Codable, Sendable, Equatable {
    public var count: String
    public var limit: [String]
    public var ending: String
}

/// A method's composite form: a request by name that gives one of `params` runs `steps` in
/// order, and answers with the result of the step `answer` (default: the last). A step's
/// parameters are a JSON template: `"$name"` is a parameter of the request (the method's own or
/// the form's; left out when the request gives none), `"$2.info.n_output"` a member of step 2's
/// result, `{"$repeat": T, "$times": "$..."}` an array of that many copies of T; anything else is
/// itself. A step with `if` runs only when the request gives that parameter.
public struct CompositeAnnotation: Codable, Sendable, Equatable {
    public var params: [String: CompositeParamAnnotation]
    public var steps: [CompositeStepAnnotation]
    public var answer: Int?
}

public struct CompositeParamAnnotation: Codable, Sendable, Equatable {
    /// The parameter (`function.param`) or struct field (`record.field`) whose schema it has.
    public var like: String
    /// What it is, for the method's description.
    public var doc: String
    /// Its value when the request gives none.
    public var `default`: AnnotationJSON?
}

public struct CompositeStepAnnotation: Codable, Sendable, Equatable {
    public var call: String
    public var params: AnnotationJSON
    public var `if`: String?
}

/// A JSON value as the annotations give it.
public indirect enum AnnotationJSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([AnnotationJSON])
    case object([String: AnnotationJSON])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([AnnotationJSON].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: AnnotationJSON].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The references (`$name`, `$2.member`) it holds, by their text after the `$`.
    public var references: [String] {
        switch self {
        case .string(let s) where s.hasPrefix("$"): return [String(s.dropFirst())]
        case .array(let items): return items.flatMap(\.references)
        case .object(let members):
            return members.sorted { $0.key < $1.key }.flatMap(\.value.references)
        default: return []
        }
    }
}

/// A byte count: the product of integer parameters, times the bits of one element (8 unless a
/// field of a struct parameter selects them: `"of": "info.type"`, by constant name), over 8.
public struct ByteSizeAnnotation: Codable, Sendable, Equatable {
    public var product: [String]
    public var bits: BitsAnnotation?
}

public struct BitsAnnotation: Codable, Sendable, Equatable {
    /// `param.field`: an enum field of a struct parameter.
    public var of: String
    public var values: [String: Int]
    public var `default`: Int
}

/// One function-pointer field of a struct of callbacks: supplied by the host unless `null` says why not.
public struct CallbackFieldAnnotation: Codable, Sendable, Equatable {
    public var null: String?

    public init(null: String? = nil) { self.null = null }
}

public struct PluginAnnotation: Codable, Sendable, Equatable {
    /// The library's file name, with the JSON member naming it in braces: `librkcst_{op_type}.so`.
    public var library: String
    /// The function it exports that returns a pointer to the struct.
    public var symbol: String
}

public struct CountParam: Codable, Sendable, Equatable {
    public var name: String
    public var `default`: Int
    public var max: Int
}

public struct TypeSelector: Codable, Sendable, Equatable {
    /// The enum parameter whose value selects the type.
    public var param: String
    /// Enum constant name -> record name.
    public var cases: [String: String]
}

/// Members of a creating call's parameter that calls taking the handle may also give per run (where
/// a client gives none, the defaults of the parameter's struct: its `default_makers` function).
public struct PerRunAnnotation: Codable, Sendable, Equatable {
    /// The creating call's parameter, and the parameter of the calls taking the handle.
    public var from: String
    public var to: String
    /// Member path in `from` -> member path in `to` (dot-separated).
    public var fields: [String: String]
}

public struct HandleAnnotation: Codable, Sendable, Equatable {
    public var create: [String]
    public var destroy: [String]
    /// The function that stops the stream running on the handle (a host that shares the handle
    /// between clients lets each stop only its own; it calls it for a client that cancels or goes).
    public var abort: String?
    /// Clients creating it with equal parameters share one object (reference counted).
    public var shared: Bool?
    /// A member path into the creating call's parameters (`param.extend_param.base_domain_id`)
    /// that must differ between live objects: the host picks a free value unless the client set one.
    public var instanceField: String?
    /// For a shared handle: the functions taking it that change nothing its other users see. Every
    /// other function taking it changes the object's state (its settings, its conversation) and
    /// so makes it the caller's own; a streaming one only when `stateKeptWhen` is nonzero.
    public var readsOnly: [String]?
    /// For a shared handle: the member path of a streaming call's parameters
    /// (`rkllm_infer_params.keep_history`) that, when nonzero, keeps the stream's state after it.
    public var stateKeptWhen: String?
    /// Creating function -> the destroying function the host calls on what it created (a client
    /// gone, a keep-alive ended); needed when `destroy` names more than one.
    public var destroyWith: [String: String]?
    /// For a shared handle: what the calls taking it can give per run that the creating call
    /// gives per object. Clients whose creating calls differ only there share one object, and
    /// each client's calls get its own values where they give none.
    public var perRun: PerRunAnnotation?

    enum CodingKeys: String, CodingKey {
        case create, destroy, abort, shared
        case destroyWith = "destroy_with"
        case perRun = "per_run"
        case instanceField = "instance_field"
        case readsOnly = "reads_only"
        case stateKeptWhen = "state_kept_when"
    }

    public init(
        create: [String], destroy: [String], abort: String? = nil, shared: Bool? = nil, instanceField: String? = nil
    ) {
        self.create = create
        self.destroy = destroy
        self.abort = abort
        self.shared = shared
        self.instanceField = instanceField
    }
}

public struct CallbackAnnotation: Codable, Sendable, Equatable {
    /// The name of the callback parameter that carries the userdata.
    public var userdata: String
    /// A pointer-to-struct parameter whose fields (less the empty ones) are the message's members.
    public var message: String?
    /// An enum parameter that is the stream's state: sent as `_callback_state`, by number.
    public var state: String?
    /// The state constants that end the stream (the host releases its sink after them).
    public var final: [String]?
    /// What the callback's return value means (said only in a comment; the upgrade diff reports
    /// a change).
    public var meaning: String?
    /// What the callback returns, instead of "go on" (0), once it has copied a message that
    /// carried buffers (the message's counted fields): the runtime may release them at once.
    public var afterCopy: Int64?
    /// What the callback returns to pause the run (it returns without a final message, and a
    /// later call goes on): clients can ask for it.
    public var pause: Int64?

    enum CodingKeys: String, CodingKey {
        case userdata, message, state, final, meaning, pause
        case afterCopy = "after_copy"
    }

    public init(userdata: String, message: String? = nil, state: String? = nil, final: [String]? = nil) {
        self.userdata = userdata
        self.message = message
        self.state = state
        self.final = final
    }
}

public struct FieldAnnotation: Codable, Sendable, Equatable {
    /// A pointer to `count` elements: a field name, or several whose product is the count.
    public var count: [String]?
    /// A pointer to an array whose length only the JSON says (no count field).
    public var array: Bool?
    /// Fields whose product is a lower bound of the elements the runtime reads from the array (its
    /// full count involves what only the runtime knows, e.g. the model's embedding size): the host
    /// refuses an array shorter than that.
    public var atLeast: [String]?
    /// Arrays of numbers travel as base64 of their little-endian bytes.
    public var base64: Bool?
    /// A `void*` byte buffer of `length` bytes (a field name), JSON base64.
    public var buffer: String?
    /// Not part of the JSON form (host-side pointers).
    public var omit: Bool?
    /// An integer field holding a file descriptor of the runtime: in a result, the host passes a
    /// duplicate of it to the client beside the message (SCM_RIGHTS).
    public var fd: Bool?
    /// A `char*` that is a file path of this kind (a name the host maps to directories).
    public var path: String?
    /// An integer field that, in an element of an array the client leaves it out of, is the
    /// element's position (`rknn_output.index`: output i unless said otherwise).
    public var position: Bool?
    /// The field's value when the client leaves it out (a number or a string).
    public var `default`: AnnotationJSON?
    /// A string field that, left out, is the file name without its extension of this path field
    /// (`RKLLMLoraAdapter.lora_adapter_name` from `lora_adapter_path`).
    public var defaultFileNameOf: String?

    enum CodingKeys: String, CodingKey {
        case count, array, base64, buffer, omit, fd, path, position, `default`
        case atLeast = "at_least"
        case defaultFileNameOf = "default_file_name_of"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let one = try? c.decode(String.self, forKey: .count) {
            count = [one]
        } else {
            count = try c.decodeIfPresent([String].self, forKey: .count)
        }
        array = try c.decodeIfPresent(Bool.self, forKey: .array)
        atLeast = try c.decodeIfPresent([String].self, forKey: .atLeast)
        base64 = try c.decodeIfPresent(Bool.self, forKey: .base64)
        buffer = try c.decodeIfPresent(String.self, forKey: .buffer)
        omit = try c.decodeIfPresent(Bool.self, forKey: .omit)
        fd = try c.decodeIfPresent(Bool.self, forKey: .fd)
        path = try c.decodeIfPresent(String.self, forKey: .path)
        position = try c.decodeIfPresent(Bool.self, forKey: .position)
        `default` = try c.decodeIfPresent(AnnotationJSON.self, forKey: .default)
        defaultFileNameOf = try c.decodeIfPresent(String.self, forKey: .defaultFileNameOf)
    }
}

public struct UnionAnnotation: Codable, Sendable, Equatable {
    /// The enum field of the record that says which member is set.
    public var tag: String
    /// Enum constant name -> member field name.
    public var cases: [String: String]
}
