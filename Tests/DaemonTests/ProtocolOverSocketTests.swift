import BindingRuntime
import Foundation
import XCTest

/// JSON-RPC 2.0 through the real daemon's socket.
final class ProtocolOverSocketTests: XCTestCase {
    private var daemon: Daemon!
    private var client: Client!

    override func setUpWithError() throws {
        daemon = try Daemon()
        client = try Client(daemon.socket)
    }

    override func tearDown() {
        client = nil
        daemon.assertStopsCleanly()
        daemon = nil
    }

    private func send(_ line: String) throws -> JSONValue {
        try client.send(line + "\n")
        return try client.readMessage()
    }

    func testEveryStandardErrorCode() throws {
        XCTAssertEqual(try send("{oops")["error"]?["code"], -32700)
        XCTAssertEqual(try send("{oops")["id"], .null)
        XCTAssertEqual(try send(#"{"jsonrpc":"2.0","id":1}"#)["error"]?["code"], -32600)
        XCTAssertEqual(try send(#"{"jsonrpc":"1.0","id":1,"method":"server.ping"}"#)["error"]?["code"], -32600)
        XCTAssertEqual(
            try send(#"{"jsonrpc":"2.0","id":1,"method":"server.ping","params":3}"#)["error"]?["code"], -32600)
        XCTAssertEqual(try send(#"{"jsonrpc":"2.0","id":[1],"method":"server.ping"}"#)["error"]?["code"], -32600)
        XCTAssertEqual(try send("7")["error"]?["code"], -32600)
        XCTAssertEqual(try client.errorCode("no.such_method"), -32601)
        // -32602 comes from the table: a C struct field of the wrong type.
        let constants = try client.call("rkllm.get_constants")
        XCTAssertEqual(constants["RKLLM_RUN_FINISH"], 2)
        XCTAssertEqual(try client.errorCode("rkllm.get_constants", ["unexpected"]), -32602)
        XCTAssertEqual(
            try send(#"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#)["result"], "pong", "the connection goes on")
    }

    func testIdsOfEveryTypeAreEchoedExactly() throws {
        for id in [#""text""#, "0", "-17", "18446744073709551615", "1.5", "null", #""\u00e9""#] {
            let response = try send(#"{"jsonrpc":"2.0","id":\#(id),"method":"server.ping"}"#)
            XCTAssertEqual(response["id"], try JSONParser.parse(id), id)
            XCTAssertEqual(response["result"], "pong")
        }
        // Byte for byte, alone and in a batch, numbers no integer type holds included.
        for id in ["-9223372036854775809", "1e2", "-0", "0.10", "123456789012345678901234567890"] {
            try client.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"server.ping"}"# + "\n")
            XCTAssertEqual(try client.readLine(), #"{"jsonrpc":"2.0","id":\#(id),"result":"pong"}"#)
            try client.send(#"[{"jsonrpc":"2.0","method":"server.ping","id":\#(id)}]"# + "\n")
            XCTAssertEqual(try client.readLine(), #"[{"jsonrpc":"2.0","id":\#(id),"result":"pong"}]"#)
        }
    }

    func testNotificationsAreNeverAnswered() throws {
        try client.send(#"{"jsonrpc":"2.0","method":"server.ping"}"# + "\n")
        try client.send(#"{"jsonrpc":"2.0","method":"no.such_method"}"# + "\n")
        try client.send(#"{"jsonrpc":"2.0","method":"rkllm.get_constants","params":["bad"]}"# + "\n")
        XCTAssertEqual(try send(#"{"jsonrpc":"2.0","id":"after","method":"server.ping"}"#)["id"], "after")
    }

    func testBatchesMixedWithNotifications() throws {
        let reply = try send(
            #"""
            [{"jsonrpc":"2.0","id":1,"method":"server.ping"},
             {"jsonrpc":"2.0","method":"server.ping"},
             {"jsonrpc":"2.0","id":2,"method":"nope"},
             5,
             {"jsonrpc":"2.0","id":3,"method":"rkllm.get_constants"}]
            """#.replacingOccurrences(of: "\n", with: ""))
        guard case .array(let items) = reply else { return XCTFail("\(reply)") }
        XCTAssertEqual(items.count, 4, "the notification has no entry")
        XCTAssertEqual(items[0]["result"], "pong")
        XCTAssertEqual(items[1]["error"]?["code"], -32601)
        XCTAssertEqual(items[2]["error"]?["code"], -32600)
        XCTAssertEqual(items[2]["id"], .null)
        XCTAssertEqual(items[3]["id"], 3)
        XCTAssertEqual(try send("[]")["error"]?["code"], -32600, "an empty batch is one error")
        // Only notifications: nothing comes back; the next answer is the ping's.
        try client.send(#"[{"jsonrpc":"2.0","method":"server.ping"},{"jsonrpc":"2.0","method":"server.ping"}]"# + "\n")
        XCTAssertEqual(try send(#"{"jsonrpc":"2.0","id":9,"method":"server.ping"}"#)["id"], 9)
    }

    func testBothParameterFormsAndServerMethods() throws {
        XCTAssertEqual(try client.call("server.ping", []), "pong")
        XCTAssertEqual(try client.call("server.ping", .object([:])), "pong")
        let info = try client.call("server.info")
        XCTAssertEqual(info["name"], "rkllm-server")
        XCTAssertEqual(info["limits"]?["max_connections"], 1024)
        guard case .array(let runtimes)? = info["runtimes"] else { return XCTFail("no runtimes in \(info)") }
        XCTAssertEqual(runtimes.map { $0["available"] }, [false, false])
        XCTAssertNotNil(runtimes[0]["reason"], "server.info says why a runtime is not available")
        let stats = try client.call("server.stats")
        XCTAssertEqual(stats["connections"]?["open"], 1)
        XCTAssertNotNil(stats["methods"]?["server.info"]?["p99_us"])
        let discover = try client.call("rpc.discover")
        guard case .array(let methods)? = discover["methods"] else { return XCTFail() }
        let names = Set(methods.compactMap { if case .string(let s)? = $0["name"] { return s } else { return nil } })
        XCTAssertEqual(
            names.count, 60,
            "50 functions, 2 get_constants, 6 server methods (server.models, server.keep_alive), $/cancelRequest, "
                + "$/pauseRequest")
        XCTAssertTrue(
            names.isSuperset(of: ["rkllm.run", "rknn.matmul_run", "server.stats", "server.models", "rpc.discover"]))
        XCTAssertNotNil(discover["components"]?["schemas"]?["RKLLMParam"])
        XCTAssertTrue(
            daemon.log.contains("connected: pid \(getpid()) uid \(getuid()) gid \(getgid())"), "peer credentials logged"
        )
    }

    func testGeneratedMethodsWithoutARuntimeAnswerNotAvailable() throws {
        XCTAssertEqual(
            try client.errorCode("rkllm.init", [["model_path": "/m.rkllm"]]), RPCError.Code.runtimeNotAvailable)
        XCTAssertEqual(
            try client.errorCode("rknn.query", .object(["context": 1, "cmd": 0])), RPCError.Code.runtimeNotAvailable)
    }

    func testInvalidUTF8HugeNumbersAndDeepNesting() throws {
        try client.send([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D, 0x0A])
        XCTAssertEqual(try client.readMessage()["error"]?["code"], -32700)
        XCTAssertEqual(try send(#"{"jsonrpc":"2.0","id":1e999,"method":"server.ping"}"#)["error"]?["code"], -32700)
        XCTAssertEqual(
            try send(#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"server.ping"}"#)["result"], "pong"
        )
        XCTAssertEqual(
            try send(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))["error"]?["code"],
            -32700)
        XCTAssertEqual(try client.call("server.ping"), "pong")
    }
}
