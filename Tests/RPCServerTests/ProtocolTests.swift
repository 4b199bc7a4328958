import BindingRuntime
import XCTest

@testable import RPCServer

final class ProtocolTests: XCTestCase {
    private func message(_ text: String) throws -> JSONRPC.Message {
        try Array(text.utf8).withUnsafeBytes { try JSONRPC.message(bytes: $0) }
    }

    private func request(_ text: String) throws -> Result<Request, JSONRPC.Invalid> {
        switch try message(text) {
        case .single(let request): return request
        case .batch(let requests):
            return requests.count == 1
                ? requests[0] : .failure(JSONRPC.Invalid(id: .null, error: RPCError(code: 0, message: "a batch")))
        }
    }

    private func invalid(_ text: String) throws -> JSONRPC.Invalid? {
        if case .failure(let f) = try request(text) { return f }
        return nil
    }

    func testAKnownMethodIsReusedOnlyWhenSpelledExactly() throws {
        func method(_ line: String) throws -> String? {
            let bytes = Array(line.utf8)
            let parsed = try bytes.withUnsafeBytes { try JSONRPC.message(bytes: $0, knownMethod: "server.ping") }
            guard case .single(.success(let request)) = parsed else { return nil }
            return request.method
        }
        XCTAssertEqual(try method(#"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#), "server.ping")
        XCTAssertEqual(
            try method(#"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#), "server.ping", "escaped: read the long way"
        )
        XCTAssertEqual(try method(#"{"jsonrpc":"2.0","id":1,"method":"server.pingx"}"#), "server.pingx")
        XCTAssertEqual(try method(#"{"jsonrpc":"2.0","id":1,"method":"server.pin"}"#), "server.pin")
        XCTAssertThrowsError(try method(#"{"jsonrpc":"2.0","id":1,"method":"server.ping"#), "unterminated")
        XCTAssertThrowsError(
            try method(#"{"jsonrpc":"2.0","id":1,"method":"server.ping"x}"#), "garbage after the string")
    }

    func testValidRequestsAndNotifications() throws {
        guard case .success(let r) = try request(#"{"jsonrpc":"2.0","id":"x","method":"m","params":[1]}"#) else {
            return XCTFail()
        }
        XCTAssertEqual(r.id, "x")
        XCTAssertEqual(r.params, [1])
        guard case .success(let n) = try request(#"{"jsonrpc":"2.0","method":"m"}"#) else { return XCTFail() }
        XCTAssertNil(n.id, "no id: a notification")
        guard case .success(let nullID) = try request(#"{"jsonrpc":"2.0","method":"m","id":null}"#) else {
            return XCTFail()
        }
        XCTAssertEqual(nullID.id, .null, "id null is a request")
    }

    func testInvalidRequestsKeepTheirIdWhenItIsValid() throws {
        XCTAssertEqual(try invalid(#"{"jsonrpc":"1.0","id":7,"method":"m"}"#)?.id, 7)
        XCTAssertEqual(try invalid(#"{"jsonrpc":"2.0","id":7,"method":1}"#)?.error.code, RPCError.Code.invalidRequest)
        XCTAssertEqual(try invalid(#"{"jsonrpc":"2.0","id":{"a":1},"method":"m"}"#)?.id, .null)
        XCTAssertEqual(
            try invalid(#"{"jsonrpc":"2.0","id":1,"method":"m","params":"x"}"#)?.error.code,
            RPCError.Code.invalidRequest)
        XCTAssertEqual(try invalid("[1]")?.id, .null, "a number in a batch is not a request")
        XCTAssertEqual(try invalid("5")?.error.code, RPCError.Code.invalidRequest)
    }

    func testResponsesEchoTheIdExactly() throws {
        // Written back byte for byte: numbers no integer type holds keep their text.
        for id in [
            #""abc""#, "-1", "18446744073709551615", "1.5", "null", "1e2", "-9223372036854775809", "0.1000", "-0",
            "2E-3",
        ] {
            for line in [
                #"{"jsonrpc":"2.0","id":\#(id),"method":"m"}"#, #"[{"jsonrpc":"2.0","method":"m","id":\#(id)}]"#,
            ] {
                let request: Result<Request, JSONRPC.Invalid>
                switch try message(line) {
                case .single(let alone): request = alone
                case .batch(let items): request = items[0]
                }
                guard case .success(let parsed) = request, let parsedID = parsed.id else { return XCTFail(line) }
                var out: [UInt8] = []
                JSONRPC.writeResult(id: parsedID, result: "pong", into: &out)
                XCTAssertEqual(String(decoding: out, as: UTF8.self), #"{"jsonrpc":"2.0","id":\#(id),"result":"pong"}"#)
            }
        }
        XCTAssertThrowsError(try message(#"{"jsonrpc":"2.0","id":1e,"method":"m"}"#), "still JSON numbers only")
        var out: [UInt8] = []
        JSONRPC.writeError(id: 3, error: RPCError(code: -32602, message: "bad", data: ["param": "x"]), into: &out)
        XCTAssertEqual(
            String(decoding: out, as: UTF8.self),
            #"{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"bad","data":{"param":"x"}}}"#)
    }

    func testAReplyIsTheSameTextWhetherComposedOnTheStackOrPieceByPiece() {
        // Short scalars go out with the head in one piece; everything else piece by piece.
        let long = String(repeating: "x", count: 300)
        let ids: [RequestID] = [
            7, -9_223_372_036_854_775_807, "abc", "q\"uote", .value(.string(long)), .number(text: "1e2"), .null,
        ]
        let results: [JSONValue] = [
            nil, true, false, .int(.min), .uint(.max), "pong", "", "é", "tab\t", .string(long), .double(0.5),
            [1, "a"], ["k": "v"],
        ]
        for id in ids {
            for result in results {
                var out: [UInt8] = []
                JSONRPC.writeResult(id: id, result: result, into: &out)
                var idText: [UInt8] = []
                id.write(into: &idText)
                let expected =
                    #"{"jsonrpc":"2.0","id":"# + String(decoding: idText, as: UTF8.self) + #","result":"#
                    + result.jsonText + "}"
                XCTAssertEqual(String(decoding: out, as: UTF8.self), expected)
            }
        }
    }

    func testThePlainReaderReadsWhatTheGeneralReaderReads() throws {
        // Each line read both ways: the same request, or the plain reader leaves it to the general one.
        let plain = [
            #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#,
            #" { "method" : "m" , "params" : [1,{"a":[]}] , "jsonrpc" : "2.0" , "id" : -42 } "#,
            #"{"jsonrpc":"2.0","id":"abc def","method":"a.b_c","params":{}}"#,
            #"{"jsonrpc":"2.0","id":null,"method":"m"}"#,
            #"{"jsonrpc":"2.0","method":"notified"}"#,
            #"{"id":0,"jsonrpc":"2.0","method":"m"}"#,
            #"{"jsonrpc":"2.0","id":123456789012345678,"method":"m"}"#,
        ]
        let general = [
            #"{"jsonrpc":"2.0","id":1,"method":"server\u002eping"}"#, #"{"jsonrpc":"2.0","id":-0,"method":"m"}"#,
            #"{"jsonrpc":"2.0","id":1e2,"method":"m"}"#, #"{"jsonrpc":"2.0","id":1.0,"method":"m"}"#,
            #"{"jsonrpc":"2.0","id":012,"method":"m"}"#, #"{"jsonrpc":"2.0","id":1234567890123456789,"method":"m"}"#,
            #"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#, #"{"jsonrpc":"2.0","id":1,"method":"m","x":1}"#,
            #"{"jsonrpc":"1.0","id":1,"method":"m"}"#, #"{"jsonrpc":"2.0","id":true,"method":"m"}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"m","params":"x"}"#, #"{"jsonrpc":"2.0","id":1,"method":"m"} x"#,
            #"{"jsonrpc":"2.0","id":"é","method":"m"}"#, #"{"jsonrpc":"2.0","id":1}"#,
            #"{"j\u0073onrpc":"2.0","method":"m"}"#,
            #"[{"jsonrpc":"2.0","id":1,"method":"m"}]"#, #"{"jsonrpc":"2.0","id":1,"method":"m","params":[1,]}"#,
            #"{"jsonrpc":"2.0","id":1,"method":"a\"b"}"#, #"{"jsonrpc":"2.0","id":1,"method":"m",}"#,
        ]
        for line in plain + general {
            let bytes = Array(line.utf8)
            let read = bytes.withUnsafeBytes { PlainRequest.read($0, knownMethod: "server.ping") }
            XCTAssertEqual(read != nil, plain.contains(line), line)
            let generally = try? bytes.withUnsafeBytes { try JSONRPC.message(bytes: $0, plainFirst: false) }
            guard let read else { continue }
            guard case .single(.success(let request))? = generally else { return XCTFail("general: \(line)") }
            XCTAssertEqual(read.id, request.id, line)
            XCTAssertEqual(read.method, request.method, line)
            XCTAssertEqual(read.params, request.params, line)
        }
    }

    func testALineLikeTheLastRequestButForItsIdIsThatRequestWithItsOwnId() throws {
        let lines = [
            #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#,
            #" { "method" : "m" , "params" : [1,{"a":[]}] , "jsonrpc" : "2.0" , "id" : -42 } "#,
            #"{"jsonrpc":"2.0","id":"abc def","method":"a.b_c","params":{}}"#,
            #"{"jsonrpc":"2.0","id":null,"method":"m"}"#, #"{"id":0,"jsonrpc":"2.0","method":"m"}"#,
        ]
        let taken = ["7", "-12", "0", "123456789012345678", #""x y""#, #""""#, "null"]
        let left = [
            "01", "1.5", "1e2", "-0", "1234567890123456789", "true", #""é""#, #""a\"b""#, "7 ", "", "[1]", "7,8",
        ]
        func general(_ bytes: [UInt8]) -> Request? {
            guard case .single(.success(let request))? = try? bytes.withUnsafeBytes({ try JSONRPC.message(bytes: $0) })
            else { return nil }
            return request
        }
        for line in lines {
            let bytes = Array(line.utf8)
            var last = PlainRequest.Last()
            var idBytes: Range<Int>?
            let plain = bytes.withUnsafeBytes { line in
                PlainRequest.read(line, knownMethod: "") { request, at in
                    idBytes = at
                    if let at { last.remember(line, idBytes: at, of: request) }
                }
            }
            guard plain, let idBytes else { return XCTFail("not plain with an id: \(line)") }
            for id in taken + left {
                let variant = Array(bytes[..<idBytes.lowerBound]) + Array(id.utf8) + Array(bytes[idBytes.upperBound...])
                var read: Request?
                _ = variant.withUnsafeBytes { line in last.repeated(line) { read = $0 } }
                XCTAssertEqual(read != nil, taken.contains(id), "\(id) in \(line)")
                guard let read else { continue }
                let expected = try XCTUnwrap(general(variant), "\(id) in \(line)")
                XCTAssertEqual(read.id, expected.id)
                XCTAssertEqual(read.method, expected.method)
                XCTAssertEqual(read.params, expected.params)
            }
            // Other lines are not taken for it.
            for other in lines where other != line {
                let accepted = Array(other.utf8).withUnsafeBytes { line in last.repeated(line) { _ in } }
                XCTAssertFalse(accepted, "\(other) after \(line)")
            }
        }
    }

    func testConfigurationFlagsWinOverTheEnvironment() throws {
        let (config, action) = try Configuration.load(
            arguments: ["--socket", "/tmp/flag.sock", "--max-connections=7"],
            environment: [
                "RKLLM_UDS_PATH": "/tmp/env.sock", "RKLLM_LOG_LEVEL": "3",
                "RKLLM_SOCKET_MODE": "0600", "RKLLM_ALLOWED_UIDS": "0, 1000",
            ])
        XCTAssertEqual(action, .serve)
        XCTAssertEqual(config.socketPath, "/tmp/flag.sock")
        XCTAssertEqual(config.maxConnections, 7)
        XCTAssertEqual(config.logLevel, .error)
        XCTAssertEqual(config.socketMode, 0o600)
        XCTAssertEqual(config.allowedUIDs, [0, 1000])
        XCTAssertThrowsError(try Configuration.load(arguments: ["--bogus"], environment: [:]))
        XCTAssertThrowsError(try Configuration.load(arguments: ["--max-connections", "0"], environment: [:]))
        XCTAssertThrowsError(try Configuration.load(arguments: [], environment: ["RKLLM_LOG_LEVEL": "9"]))
        XCTAssertEqual(try Configuration.load(arguments: ["--help"], environment: [:]).1, .help)
        XCTAssertTrue(Configuration.usage(program: "rkllm-server").contains("RKLLM_MAX_OUTPUT_BYTES"))
    }

    func testIOUringIsOnUnlessTurnedOff() throws {
        XCTAssertTrue(try Configuration.load(arguments: [], environment: [:]).0.ioUring)
        XCTAssertFalse(try Configuration.load(arguments: ["--io-uring", "off"], environment: [:]).0.ioUring)
        XCTAssertFalse(try Configuration.load(arguments: [], environment: ["RKLLM_IO_URING": "off"]).0.ioUring)
        XCTAssertTrue(
            try Configuration.load(arguments: ["--io-uring=on"], environment: ["RKLLM_IO_URING": "off"]).0.ioUring)
        XCTAssertThrowsError(try Configuration.load(arguments: ["--io-uring", "maybe"], environment: [:]))
    }
}
