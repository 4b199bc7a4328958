import BindingRuntime

/// One JSON-RPC 2.0 request as the server sees it, after validation.
public struct Request: Sendable {
    /// nil for a notification (no reply, ever).
    public let id: JSONValue?
    public let method: String
    public let params: JSONValue?
}

/// JSON-RPC 2.0 message shapes: validation of what comes in, encoding of what goes out.
public enum JSONRPC {
    /// A request that cannot be served, with the id to answer (null when none could be read).
    public struct Invalid: Error {
        public let id: JSONValue
        public let error: RPCError
    }

    /// A parsed message (one element of a batch) checked against the spec.
    public static func request(from value: JSONValue) -> Result<Request, Invalid> {
        guard case .object(let object) = value else {
            return .failure(Invalid(id: .null, error: invalidRequest("a request must be an object, got \(value.typeName)")))
        }
        return request(jsonrpc: object["jsonrpc"], id: object["id"], method: object["method"], params: object["params"])
    }

    /// A request line read straight from its bytes when it is one object (the common case: no
    /// intermediate object is built); nil when it is not an object (a batch, or not a request).
    /// `knownMethod`: the method clients are likely to name (the last one), reused when it is.
    public static func request(bytes: UnsafeRawBufferPointer, knownMethod: String? = nil) throws(JSONParser.Error) -> Result<Request, Invalid>? {
        var jsonrpc: JSONValue?, id: JSONValue?, method: JSONValue?, params: JSONValue?
        let isObject = try JSONParser.members(bytes) { (key: JSONParser.Key, parser: inout JSONParser) throws(JSONParser.Error) in
            switch key.shape {
            case (7, UInt8(ascii: "j")) where key.is("jsonrpc"):
                jsonrpc = parser.consume(#""2.0""#) ? Self.version : try parser.value()
            case (2, UInt8(ascii: "i")) where key.is("id"):
                id = try parser.value()
            case (6, UInt8(ascii: "m")) where key.is("method"):
                method = try parser.value(reusing: knownMethod)
            case (6, UInt8(ascii: "p")) where key.is("params"):
                params = try parser.value()
            default:
                _ = try parser.value() // read (so the line is valid JSON) and ignored
            }
        }
        return isObject ? request(jsonrpc: jsonrpc, id: id, method: method, params: params) : nil
    }

    private static let version: JSONValue = "2.0"

    /// The members of a request checked against the spec; an error carries the id when it is valid.
    static func request(jsonrpc: JSONValue?, id raw: JSONValue?, method: JSONValue?, params: JSONValue?) -> Result<Request, Invalid> {
        // The id, when valid, is echoed even in the error about the rest of the request.
        var id: JSONValue?
        if let raw {
            switch raw {
            case .string, .int, .uint, .double, .null: id = raw
            default: return .failure(Invalid(id: .null, error: invalidRequest("id must be a string, a number or null, got \(raw.typeName)")))
            }
        }
        let replyID = id ?? .null
        guard jsonrpc == .string("2.0") else {
            return .failure(Invalid(id: replyID, error: invalidRequest("\"jsonrpc\" must be \"2.0\"")))
        }
        guard case .string(let method)? = method else {
            return .failure(Invalid(id: replyID, error: invalidRequest("\"method\" must be a string")))
        }
        switch params {
        case nil, .array?, .object?: break
        case let other?: return .failure(Invalid(id: replyID, error: invalidRequest("\"params\" must be an array or an object, got \(other.typeName)")))
        }
        return .success(Request(id: id, method: method, params: params))
    }

    static func invalidRequest(_ why: String) -> RPCError {
        RPCError(code: RPCError.invalidRequest, message: "invalid request: \(why)")
    }

    static func parseError(_ error: JSONParser.Error) -> RPCError {
        RPCError(code: RPCError.parseError, message: "parse error: \(error)", data: .object(["offset": .int(Int64(error.offset))]))
    }

    static func methodNotFound(_ method: String) -> RPCError {
        RPCError(code: RPCError.methodNotFound, message: "method not found: \(method)", data: .object(["method": .string(method)]))
    }

    // MARK: encoding (straight into an output buffer)

    private static let prefix = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
    private static let resultKey = Array(#","result":"#.utf8)
    private static let errorKey = Array(#","error":"#.utf8)

    public static func writeResult(id: JSONValue, result: JSONValue, into out: inout [UInt8]) {
        out.append(contentsOf: prefix)
        id.write(into: &out)
        out.append(contentsOf: resultKey)
        result.write(into: &out)
        out.append(UInt8(ascii: "}"))
    }

    public static func writeError(id: JSONValue, error: RPCError, into out: inout [UInt8]) {
        out.append(contentsOf: prefix)
        id.write(into: &out)
        out.append(contentsOf: errorKey)
        errorObject(error).write(into: &out)
        out.append(UInt8(ascii: "}"))
    }

    public static func write(id: JSONValue, _ outcome: Result<JSONValue, RPCError>, into out: inout [UInt8]) {
        switch outcome {
        case .success(let result): writeResult(id: id, result: result, into: &out)
        case .failure(let error): writeError(id: id, error: error, into: &out)
        }
    }

    static func errorObject(_ error: RPCError) -> JSONValue {
        var object: JSONObject = ["code": .int(Int64(error.code)), "message": .string(error.message)]
        if let data = error.data { object["data"] = data }
        return .object(object)
    }
}
