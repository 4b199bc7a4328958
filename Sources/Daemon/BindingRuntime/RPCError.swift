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

    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParamsCode = -32602
    public static let internalError = -32603
    /// The runtime returned an error status; its code is in `data`.
    public static let runtimeErrorCode = -32000
    public static let unknownHandleCode = -32001
    public static let handleBusyCode = -32002
    public static let queueFullCode = -32003
    public static let notPermittedCode = -32004
    public static let runtimeNotAvailableCode = -32005
    public static let functionNotPresentCode = -32006
    public static let cancelledCode = -32007
    public static let shuttingDownCode = -32008
    public static let runtimeCrashedCode = -32009
    public static let tooManyConnectionsCode = -32010
    /// A quota or cap of the daemon would be passed; `data.limit` names the setting.
    public static let limitExceededCode = -32011

    /// -32011: `what` would pass the limit `setting` (its value `limit`).
    public static func limitExceeded(_ setting: String, _ limit: Int, what: String) -> RPCError {
        RPCError(
            code: limitExceededCode, message: "limit exceeded: \(what) would pass \(setting) (\(limit))",
            data: .object(["limit": .string(setting), "value": .int(Int64(limit))]))
    }

    /// -32602 naming the parameter (or field path) and what is wrong with it.
    public static func invalidParams(_ path: String, _ why: String) -> RPCError {
        RPCError(
            code: invalidParamsCode, message: "invalid params: \(path): \(why)", data: .object(["param": .string(path)])
        )
    }

    public static func runtimeError(function: String, status: Int64) -> RPCError {
        RPCError(
            code: runtimeErrorCode, message: "\(function) returned \(status)",
            data: .object(["function": .string(function), "code": .int(status)]))
    }

    public static func functionNotPresent(_ symbol: String) -> RPCError {
        RPCError(
            code: functionNotPresentCode, message: "\(symbol) is not present in this runtime version",
            data: .object(["symbol": .string(symbol)]))
    }
}
