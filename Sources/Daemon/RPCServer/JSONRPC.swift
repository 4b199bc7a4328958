import BindingRuntime

/// One JSON-RPC 2.0 request as the server sees it, after validation.
public struct Request: Sendable {
    /// nil for a notification (no reply, ever).
    public let id: RequestID?
    public let method: String
    public let params: JSONValue?
    /// The params' text as the client wrote it, kept when it is large (`keptParamsBytes`, a
    /// base64 frame): what is forwarded to a runtime host, its handles rewritten in place.
    public let paramsText: [UInt8]?

    /// Params of at least this many bytes keep their text: below it, writing them again costs
    /// less than keeping a copy.
    public static let keptParamsBytes = 16 << 10

    public init(id: RequestID?, method: String, params: JSONValue?, paramsText: [UInt8]? = nil) {
        self.id = id
        self.method = method
        self.params = params
        self.paramsText = paramsText
    }
}

/// A request id as the client wrote it, so that every reply echoes it exactly: JSON allows any
/// number, and one that would not be written back the same (`1e2`, `-9223372036854775809`, `-0`)
/// keeps its text. An integer (nearly every client's id) is a case of its own, never a `.value`:
/// a copy of it (one per reply and per call) counts no reference.
public enum RequestID: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case int(Int64)
    case value(JSONValue)
    case number(text: String)

    public static let null = RequestID.value(.null)

    /// The id a value read from JSON is.
    public init(_ value: JSONValue) {
        if case .int(let number) = value { self = .int(number) } else { self = .value(value) }
    }

    public init(stringLiteral text: String) { self = .value(.string(text)) }
    public init(integerLiteral number: Int64) { self = .int(number) }

    /// The id as a value, to compare with (`server.cancel` names a request by its id).
    public var value: JSONValue {
        switch self {
        case .int(let number): return .int(number)
        case .value(let value): return value
        case .number(let text): return (try? JSONParser.parse(text)) ?? .null
        }
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case .int(let number): JSONValue.int(number).write(into: &out)
        case .value(let value): value.write(into: &out)
        case .number(let text): out.append(contentsOf: text.utf8)
        }
    }
}

/// JSON-RPC 2.0 message shapes: validation of what comes in, encoding of what goes out.
public enum JSONRPC {
    /// A request that cannot be served, with the id to answer (null when none could be read).
    public struct Invalid: Error {
        public let id: RequestID
        public let error: RPCError
    }

    /// What one line holds: a request, or a batch of them (each checked on its own).
    public enum Message {
        case single(Result<Request, Invalid>)
        case batch([Result<Request, Invalid>])
    }

    /// A line read straight from its bytes: requests are read member by member, with no
    /// intermediate object. `knownMethod`: the method clients are likely to name (the last one),
    /// reused when it is. `plainFirst`: a request of the plain shape (`PlainRequest`) is read in one
    /// pass before the general reader is tried; false only to compare the two. Throws when the line
    /// is not JSON.
    public static func message(
        bytes: UnsafeRawBufferPointer, knownMethod: String? = nil, plainFirst: Bool = true
    ) throws(JSONParser.Error) -> Message {
        if plainFirst,
            let request = PlainRequest.read(
                bytes, knownMethod: knownMethod.flatMap { JSONScan.isPlain($0) ? $0 : nil } ?? "")
        {
            return .single(.success(request))
        }
        var parser = JSONParser(bytes)
        var requests: [Result<Request, Invalid>] = []
        let isBatch = try parser.elements { (parser: inout JSONParser) throws(JSONParser.Error) in
            requests.append(try request(&parser, knownMethod: knownMethod))
        }
        let message: Message = isBatch ? .batch(requests) : .single(try request(&parser, knownMethod: knownMethod))
        try parser.end()
        return message
    }

    /// The request at the parser's position (any JSON value: what is not an object is invalid).
    private static func request(_ parser: inout JSONParser, knownMethod: String?) throws(JSONParser.Error) -> Result<
        Request, Invalid
    > {
        var jsonrpc: JSONValue?
        var id: RequestID?
        var method: JSONValue?
        var params: JSONValue?
        let isObject = try parser.members { (key: JSONParser.Key, parser: inout JSONParser) throws(JSONParser.Error) in
            switch key.shape {
            case (7, UInt8(ascii: "j")) where key.is("jsonrpc"):
                jsonrpc = parser.consume(#""2.0""#) ? Self.version : try parser.value()
            case (2, UInt8(ascii: "i")) where key.is("id"):
                let (value, numberText) = try parser.valueKeepingNumberText()
                id = numberText.map { .number(text: $0) } ?? RequestID(value)
            case (6, UInt8(ascii: "m")) where key.is("method"):
                method = try parser.value(reusing: knownMethod)
            case (6, UInt8(ascii: "p")) where key.is("params"):
                params = try parser.value()
            default:
                _ = try parser.value()  // read (so the line is valid JSON) and ignored
            }
        }
        guard isObject else {
            let value = try parser.value()
            return .failure(
                Invalid(id: .null, error: invalidRequest("a request must be an object, got \(value.typeName)")))
        }
        return request(jsonrpc: jsonrpc, id: id, method: method, params: params)
    }

    private static let version: JSONValue = "2.0"

    /// The members of a request checked against the spec; an error carries the id when it is valid.
    static func request(jsonrpc: JSONValue?, id raw: RequestID?, method: JSONValue?, params: JSONValue?) -> Result<
        Request, Invalid
    > {
        // The id, when valid, is echoed even in the error about the rest of the request.
        var id: RequestID?
        if let raw {
            switch raw.value {
            case .string, .int, .uint, .double, .null: id = raw
            default:
                return .failure(
                    Invalid(
                        id: .null,
                        error: invalidRequest("id must be a string, a number or null, got \(raw.value.typeName)")))
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
        case let other?:
            return .failure(
                Invalid(
                    id: replyID,
                    error: invalidRequest("\"params\" must be an array or an object, got \(other.typeName)")))
        }
        return .success(Request(id: id, method: method, params: params))
    }

    static func invalidRequest(_ why: String) -> RPCError {
        RPCError(code: RPCError.Code.invalidRequest, message: "invalid request: \(why)")
    }

    static func parseError(_ error: JSONParser.Error) -> RPCError {
        RPCError(
            code: RPCError.Code.parseError, message: "parse error: \(error)",
            data: .object(["offset": .int(Int64(error.offset))]))
    }

    static func methodNotFound(_ method: String) -> RPCError {
        RPCError(
            code: RPCError.Code.methodNotFound, message: "method not found: \(method)",
            data: .object(["method": .string(method)]))
    }

    // MARK: encoding (straight into an output buffer)

    public static func writeResult(id: RequestID, result: JSONValue, into out: inout [UInt8]) {
        guard !write(id: id, member: #","result":"#, scalar: result, into: &out) else { return }
        result.write(into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// A result whose JSON text was written elsewhere, appended as it is.
    public static func writeResult(id: RequestID, text: JSONText, into out: inout [UInt8]) {
        write(id: id, member: #","result":"#, scalar: nil, into: &out)
        out += text.bytes
        out.append(UInt8(ascii: "}"))
    }

    public static func writeError(id: RequestID, error: RPCError, into out: inout [UInt8]) {
        write(id: id, member: #","error":"#, scalar: nil, into: &out)
        errorObject(error).write(into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `{"jsonrpc":"2.0","id":` with the id and the name of the member that follows, composed on
    /// the stack and appended at once; with the member's value and the closing brace too when that
    /// value is a short scalar (`ByteCursor.put(scalar:)`). Whether the whole message was written.
    @discardableResult
    private static func write(id: RequestID, member: StaticString, scalar: JSONValue?, into out: inout [UInt8])
        -> Bool
    {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 192) { buffer in
            var text = ByteCursor(buffer)
            text.put(#"{"jsonrpc":"2.0","id":"#)
            let idWritten: Bool
            switch id {
            case .int(let number): idWritten = text.put(integer: number)
            case .value(let value): idWritten = text.put(scalar: value)
            case .number(let number): idWritten = number.utf8.withContiguousStorageIfAvailable { text.put($0) } == true
            }
            guard idWritten else {
                // An id too long for the stack (or not contiguous): written piece by piece.
                out.append(contentsOf: text.written)
                id.write(into: &out)
                out.append(contentsOf: UnsafeBufferPointer(start: member.utf8Start, count: member.utf8CodeUnitCount))
                return false
            }
            text.put(member)
            let whole = scalar.map { text.put(scalar: $0) && text.put(byte: UInt8(ascii: "}")) } ?? false
            out.append(contentsOf: text.written)
            return whole
        }
    }

    public static func write(id: RequestID, _ outcome: Result<JSONValue, RPCError>, into out: inout [UInt8]) {
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
