/// A JSON-RPC error: code, message and optional data. Server codes are those of the product spec.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "\(code): \(message)" }

    /// Any error as one a client can be sent: itself, or an internal error saying what it was.
    public static func from(_ error: Error) -> RPCError {
        error as? RPCError ?? RPCError(code: Code.internalError, message: "\(error)")
    }

    /// The error codes: JSON-RPC's own, then the daemon's (-32000 and on).
    public enum Code {
        public static let parseError = -32700
        public static let invalidRequest = -32600
        public static let methodNotFound = -32601
        public static let invalidParams = -32602
        public static let internalError = -32603
        /// The runtime returned an error status; its code is in `data`.
        public static let runtimeError = -32000
        public static let unknownHandle = -32001
        public static let handleBusy = -32002
        public static let queueFull = -32003
        public static let notPermitted = -32004
        public static let runtimeNotAvailable = -32005
        public static let functionNotPresent = -32006
        public static let cancelled = -32007
        public static let shuttingDown = -32008
        public static let runtimeCrashed = -32009
        public static let tooManyConnections = -32010
        /// A quota or cap of the daemon would be passed; `data.limit` names the setting.
        public static let limitExceeded = -32011
    }

    /// -32011: `what` would pass the limit `setting` (its value `limit`).
    public static func limitExceeded(_ setting: String, _ limit: Int, what: String) -> RPCError {
        RPCError(
            code: Code.limitExceeded, message: "limit exceeded: \(what) would pass \(setting) (\(limit))",
            data: .object(["limit": .string(setting), "value": .int(Int64(limit))]))
    }

    /// -32602 naming the parameter (or field path) and what is wrong with it.
    public static func invalidParams(_ path: String, _ why: String) -> RPCError {
        RPCError(
            code: Code.invalidParams, message: "invalid params: \(path): \(why)",
            data: .object(["param": .string(path)])
        )
    }

    /// A runtime call that failed with `status`, named and said in a sentence where its status
    /// group knows the code.
    public static func runtimeError(function: String, status: Int64, statuses: StatusNames? = nil) -> RPCError {
        var data: JSONObject = ["function": .string(function), "code": .int(status)]
        var message = "\(function) returned \(status)"
        if let known = statuses?[status] {
            if let name = known.name { data["name"] = .string(name) }
            if let meaning = known.meaning { data["meaning"] = .string(meaning) }
            if let source = statuses?.source { data["meaning_source"] = .string(source) }
            message += " (" + [known.name, known.meaning].compactMap { $0 }.joined(separator: ": ") + ")"
        }
        return RPCError(code: Code.runtimeError, message: message, data: .object(data))
    }

    public static func functionNotPresent(_ symbol: String) -> RPCError {
        RPCError(
            code: Code.functionNotPresent, message: "\(symbol) is not present in this runtime version",
            data: .object(["symbol": .string(symbol)]))
    }
}
