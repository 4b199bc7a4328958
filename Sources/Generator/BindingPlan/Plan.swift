import APIModel

/// How the generated code binds each declaration of the model: what the planner decided from the
/// C types and the annotations, before anything is rendered.
public struct BindingPlan: Sendable {
    public var model: APIModel
    public var functions: [FunctionPlan]
    public var records: [RecordPlan]
    public var callbacks: [CallbackPlan]
    /// The runtimes the annotations declare (their manifests).
    public var runtimes: [RuntimePlan]
    /// What the failure codes of each status group mean, by group name.
    public var statusGroups: [StatusGroupPlan] = []
    /// Annotation problems and other notes, in `file:line: warning:` form.
    public var warnings: [Diagnostic]
}

/// A status group: each code with the constant naming it (if any) and what it means.
public struct StatusGroupPlan: Sendable {
    public var name: String
    public var codes: [(code: Int64, name: String?, meaning: String?)]
    public var source: String?
}

public enum Direction: String, Codable, Sendable { case `in`, out, `inout` }

public enum StatusRule: String, Codable, Sendable {
    case nonzeroIsError = "nonzero_is_error"
    case negativeIsError = "negative_is_error"
    case nullIsError = "null_is_error"
    case none
}

/// The role of one C parameter in a JSON-RPC call.
public indirect enum ParamRole: Sendable, Equatable {
    /// A number, bool or enum given in JSON.
    case value(CType)
    /// `const char*`: a JSON string or null; with `pathKind`, a file path the host confines to
    /// the directories it configures for that kind.
    case string(pathKind: String?)
    /// A handle id given in JSON, resolved by the host.
    case handle(String)
    /// `Handle*` the function fills: the new handle is registered and returned.
    case handleOut(String)
    /// `Handle*` the function reads.
    case handleIn(String)
    /// A pointer to one struct.
    case record(String, Direction)
    /// A pointer to (or incomplete array of) elements; `count` names the count parameter, if any.
    case array(element: CType, direction: Direction, count: ArrayCount)
    /// Set from the length of another parameter's JSON array or buffer; not in JSON.
    case countOf(String)
    /// A byte buffer given as base64 (or a path string when `stringMeansZeroLength`).
    /// The path string is confined to the host's directories of `pathKind` when one is given.
    case buffer(length: String?, stringMeansZeroLength: Bool, pathKind: String?)
    /// A byte buffer the function fills, as long as another buffer.
    case outBuffer(sameSizeAs: String)
    /// A pointer to one number the function fills.
    case scalarOut(CType)
    /// A `void*` to the struct that an enum parameter selects.
    case selected(selector: String, cases: [SelectedCase], direction: Direction)
    /// The byte size of the type another parameter selected.
    case sizeOf(String)
    /// The host supplies the callback (a generated trampoline).
    case callback(String)
    /// The userdata of a host-supplied callback: JSON value echoed back, host supplies the pointer.
    case callbackContext(String)
    /// A pointer to a struct of callbacks the host fills: each field a trampoline or NULL.
    case callbacks(record: String, [CallbackField])
    /// Always NULL.
    case null
    /// A file descriptor passed beside the message; `maps`: the integer parameters whose sum is how
    /// many of its bytes the function maps (checked by the host before the call), empty for none.
    case fd(CType, maps: [String])
    /// Structs made by server-side plugins the client names (`library` with `{member}` in it).
    case plugins(record: String, count: String?, library: String, symbol: String)

    /// Whether the client gives this parameter in the params array/object.
    public var isInJSON: Bool {
        switch self {
        case .value, .string, .handle, .handleIn, .buffer, .callbackContext, .fd, .plugins: return true
        case .record(_, let d), .selected(_, _, let d): return d != .out
        case .array(_, let d, let count):
            if case .jsonParam = count { return true }
            return d != .out
        case .handleOut, .countOf, .outBuffer, .scalarOut, .sizeOf, .callback, .callbacks, .null: return false
        }
    }

    /// Whether the client must give it: numbers, handles and fds; pointers may be null or omitted.
    public var isRequired: Bool {
        switch self {
        case .value, .handle, .handleIn, .fd: return true
        default: return false
        }
    }

    /// Whether the result carries this parameter after the call.
    public var isInResult: Bool {
        switch self {
        case .handleOut, .outBuffer, .scalarOut: return true
        case .record(_, let d), .selected(_, _, let d), .array(_, let d, _): return d != .in
        default: return false
        }
    }
}

public enum ArrayCount: Sendable, Equatable {
    /// Only the JSON array's length.
    case jsonLength
    /// Another C parameter, set from the JSON array's length (or read, for out arrays).
    case param(String)
    /// A JSON-only parameter gives the length of an out array.
    case jsonParam(name: String, defaultValue: Int, max: Int)
}

public struct SelectedCase: Sendable, Equatable {
    public var constant: String
    public var value: Int64
    public var record: String
}

public enum ReturnRole: Sendable, Equatable {
    case void
    case status(StatusRule)
    case value(CType)
    case record(String)
    /// A pointer to a handle record, NULL on failure.
    case handle(String)
}

public struct ParamPlan: Sendable, Equatable {
    public var name: String
    public var type: CType
    public var role: ParamRole
    /// A buffer's least size in bytes, checked by the host before the call.
    public var minBytes: ByteSize? = nil
    /// A number's value when the client leaves it out (the annotations' `default`).
    public var defaultValue: Int64? = nil
    /// The annotations' word on whether the client must give it.
    public var requiredByAnnotation: Bool? = nil
    /// Other names a request may give it by.
    public var aliases: [ParamAlias] = []

    /// Its name in a request: the C name, except for an out-array whose length the request gives,
    /// which is named by that length (`get_kv_cache_size`'s `n_batch`, not `cache_sizes`).
    public var jsonName: String {
        if case .array(_, .out, .jsonParam(let name, _, _)) = role { return name }
        return name
    }

    /// Whether a request must give it: as the annotations say, else a number without a default
    /// and the handles and descriptors.
    public var isRequired: Bool { requiredByAnnotation ?? (defaultValue == nil && role.isRequired) }
}

/// Another name of a parameter, with the member of the parameter's value it gives (nil: the value).
public struct ParamAlias: Sendable, Equatable {
    public var name: String
    public var member: String?
}

/// Bytes = product of integer parameters x bits per element / 8 (rounded up); the bits are
/// `defaultBits` unless `bitsOf` (a struct parameter and its enum field) selects them by value.
public struct ByteSize: Sendable, Equatable {
    public var product: [String]
    public var bitsOf: (param: String, field: String)?
    public var bits: [Int64: Int]
    public var defaultBits: Int

    public static func == (a: ByteSize, b: ByteSize) -> Bool {
        a.product == b.product && a.bitsOf?.param == b.bitsOf?.param && a.bitsOf?.field == b.bitsOf?.field
            && a.bits == b.bits && a.defaultBits == b.defaultBits
    }
}

/// What a call on a shared object does to the state its users see (its settings, a conversation).
public enum SharedStateEffect: Sendable, Equatable {
    case none
    case changes
    /// Changes it when the member at this path of the call's parameters is nonzero.
    case changesWhen([String])
}

/// One function-pointer field of a struct of callbacks (ParamRole.callbacks).
public struct CallbackField: Sendable, Equatable {
    public var field: String
    /// The host-supplied callback typedef; nil for a field left NULL.
    public var typedef: String?
    /// Why the host leaves it NULL.
    public var nullBecause: String?

    public init(field: String, typedef: String?, nullBecause: String?) {
        self.field = field
        self.typedef = typedef
        self.nullBecause = nullBecause
    }
}

public struct FunctionPlan: Sendable {
    public var function: Function
    public var method: String
    public var bound: Bool
    /// Why the function is not bound, and the annotation that would bind it.
    public var reason: String?
    public var params: [ParamPlan]
    public var returns: ReturnRole
    public var blocking: Bool
    /// Only root peers may call it.
    public var privileged: Bool = false
    public var creates: String?
    public var destroys: String?
    /// The handle type whose running stream it stops.
    public var aborts: String?
    /// For a creating call: clients with equal parameters share the object; the member path
    /// whose value must differ between live objects.
    /// The status group that names its failure codes.
    public var statuses: String?
    public var sharesCreated: Bool = false
    public var instanceField: [String]?
    /// For a shared creating call: what calls taking the object give per run (`PerRunAnnotation`).
    public var perRun: PerRunAnnotation?
    /// For a shared creating call: JSON parameter -> the method answering its struct's defaults
    /// (its default maker), so clients that differ only by giving a default share.
    public var defaults: [String: String] = [:]
    /// What the call does to the state other users of a shared object see.
    public var sharedState: SharedStateEffect = .none
    /// For a creating call: the integer parameters whose product is the bytes the object holds.
    public var holdsBytes: [String] = []
    /// The function called with this call's leading arguments once its results are read.
    public var releasedBy: Function?
    /// Default-maker for this record.
    public var makesDefaultFor: String?
    /// What the binding leaves out of a bound function, for the report (a callback left NULL).
    public var notes: [String] = []
    /// What the result means, when only a comment says (the annotations' `meaning`).
    public var meaning: String?
    /// Its method's composite form, when the annotations declare one its functions can make.
    public var composite: CompositePlan?
    /// For a streaming call: the limit that ends its stream otherwise (checked against the headers).
    public var streamLimit: StreamLimitAnnotation?

    public var jsonParams: [ParamPlan] { params.filter { $0.role.isInJSON } }
    public var callbackTypedef: String? {
        for p in params { if case .callback(let t) = p.role { return t } }
        return nil
    }
    public var callbackContextTypedef: String? {
        for p in params { if case .callbackContext(let t) = p.role { return t } }
        return nil
    }
}

/// A method's composite form (`CompositeAnnotation`): its own parameters, each with the schema of
/// a parameter or field of its steps, and the steps, each a bound function.
public struct CompositePlan: Sendable {
    public struct Param: Sendable {
        public var name: String
        public var doc: String
        public var defaultValue: AnnotationJSON?
        /// What it is like: a function's JSON parameter, or a record's field.
        public var like: Likeness
    }

    public enum Likeness: Sendable {
        case param(ParamPlan)
        case field(record: String, FieldPlan)
    }

    public struct Step: Sendable {
        public var function: String
        public var method: String
        public var params: AnnotationJSON
        public var condition: String?
    }

    public var params: [Param]
    public var steps: [Step]
    /// The step whose result is the answer.
    public var answer: Int
}

/// How one struct field appears in JSON.
public indirect enum FieldRole: Sendable, Equatable {
    case value(CType)
    /// `char*`; with `pathKind`, a file path the host confines (see ParamRole.string).
    case string(pathKind: String?)
    /// `char name[N]`.
    case charArray(count: Int)
    /// `T x[N]` (or nested arrays, flattened to `count` elements of `element`).
    case fixedArray(element: CType, count: Int)
    case record(String)
    /// A pointer to one struct; null is NULL.
    case optionalRecord(String)
    /// A pointer to elements whose count is other fields (product) or only the JSON length.
    /// `atLeast`: fields whose product the array must hold at least (see `FieldAnnotation.atLeast`).
    case pointerArray(element: CType, count: [String], base64: Bool, atLeast: [String])
    /// A `void*` byte buffer whose length is another field.
    case buffer(length: String)
    /// A C11 anonymous struct/union member: its fields are members of the record.
    case anonymousMember(String)
    /// Not in the JSON form.
    case omitted(reason: String)
}

public struct FieldPlan: Sendable, Equatable {
    public var field: Field
    public var role: FieldRole
}

public struct RecordPlan: Sendable {
    public var record: Record
    public var fields: [FieldPlan]
    /// Set when Swift cannot express the layout: the record is an opaque blob of `record.size` bytes.
    public var opaqueReason: String?
    /// The default-maker function, when the annotations name one.
    public var defaultMaker: String?
    /// The tag that selects the member of an anonymous union.
    public var union: UnionAnnotation?
    /// Integer fields that hold a file descriptor (exported to the client when the record is a result).
    public var descriptorFields: [String] = []
    /// The field an array element left without it gets its position in (`FieldAnnotation.position`).
    public var positionField: String?
    /// Fields' values when the client leaves them out, and fields that are then the file name of
    /// a path field (`FieldAnnotation.default`, `defaultFileNameOf`).
    public var fieldDefaults: [(field: String, value: AnnotationJSON)] = []
    public var fileNameDefaults: [(field: String, path: String)] = []
}

public struct CallbackPlan: Sendable {
    public var typedef: String
    public var function: FunctionType
    public var parameterNames: [String]
    public var userdata: String
    /// The parameter whose struct's fields make the message (else every parameter by name).
    public var message: String?
    /// The parameter sent as `_callback_state`.
    public var state: String?
    /// Values of `state` that end the stream.
    public var finalValues: [Int64]
    /// What its return value means (the annotations').
    public var meaning: String?
    /// What it returns after copying a message whose `buffers` (member paths of the message's
    /// struct: its counted pointer fields) were not all NULL, when the annotations say.
    public var afterCopy: Int64?
    public var buffers: [[String]] = []
    /// What it returns to pause the run, when the annotations say.
    public var pause: Int64?
}
