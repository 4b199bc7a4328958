import BindingRuntime
import Foundation
import XCTest

/// Numbers past their field's range, from any client, over HTTP and over the socket: each is a
/// 400 / -32602 naming the field, and the daemon (with every other client's model) lives on.
final class OutOfRangeNumberTests: XCTestCase {
    func testHTTPBodiesWithNumbersPastTheirRangeAreRefusedNamingTheField() throws {
        let (daemon, port) = try HTTPConnection.daemon([], ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
        // A first generation before the witness counts descriptors: libdispatch opens its own on first use.
        let first = try HTTPConnection(port: port).post(
            "/api/generate", #"{"model":"demo","prompt":"hi","stream":false}"#)
        XCTAssertEqual(first.status, 200)
        let bystander = try Bystander(daemon)
        let cases: [(path: String, body: String, field: String)] = [
            ("/api/generate", #""prompt":"hi","stream":false,"options":{"num_predict":1e19}"#, "num_predict"),
            ("/api/generate", #""prompt":"hi","stream":false,"options":{"top_k":-1e300}"#, "top_k"),
            (
                "/api/chat",
                #""messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":18446744073709551616}"#,
                "num_predict"
            ),
            ("/v1/chat/completions", #""messages":[{"role":"user","content":"hi"}],"max_tokens":1e19"#, "max_tokens"),
            ("/v1/completions", #""prompt":"hi","n":1e300"#, "n"),
            ("/v1/completions", #""prompt":"hi","temperature":1e300"#, "temperature"),
            ("/api/generate", #""prompt":"hi","stream":false,"keep_alive":1e300"#, "keep_alive"),
            ("/api/generate", #""prompt":"hi","stream":false,"keep_alive":"1e300h""#, "keep_alive"),
            ("/api/generate", #""prompt":"hi","stream":false,"keep_alive":2e10"#, "keep_alive"),
            ("/api/generate", #""prompt":"hi","stream":false,"keep_alive":1.9e10"#, "keep_alive"),
        ]
        for (path, fields, field) in cases {
            let http = try HTTPConnection(port: port)
            let (status, body) = try http.post(path, #"{"model":"demo","# + fields + "}")
            XCTAssertEqual(status, 400, "\(path) \(fields)")
            XCTAssertTrue(
                String(decoding: body, as: UTF8.self).contains("'\(field)'"), String(decoding: body, as: UTF8.self))
            XCTAssertEqual(try Client(daemon.socket).call("server.ping"), "pong", "\(path) \(fields)")
        }
        // The longest keep-alive there is, and forever, are served (the last, 0, unloads the model).
        for keepAlive in ["3153600000", "-1", #""-5m""#, "0"] {
            let (status, _) = try HTTPConnection(port: port).post(
                "/api/generate", #"{"model":"demo","prompt":"hi","stream":false,"keep_alive":\#(keepAlive)}"#)
            XCTAssertEqual(status, 200, keepAlive)
        }
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testKeepAliveSecondsPastTheMaximumAreRefusedOverTheSocket() throws {
        let daemon = try Bystander.daemon()
        let bystander = try Bystander(daemon)
        let client = try Client(daemon.socket)
        for seconds: JSONValue in [1e300, 2e10, 1.9e10, -1e300, .string("5"), .uint(UInt64.max)] {
            let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"])
            let response = try client.request("server.keep_alive", ["handle": handle, "seconds": seconds])
            XCTAssertEqual(response["error"]?["code"], .int(Int64(RPCError.Code.invalidParams)), seconds.jsonText)
            XCTAssertEqual(response["error"]?["data"]?["param"], "seconds")
            _ = try client.call("rkllm.destroy", ["handle": handle])
            XCTAssertEqual(try client.call("server.ping"), "pong")
        }
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"])
        XCTAssertEqual(
            try client.call("server.keep_alive", ["handle": handle, "seconds": 3_153_600_000])["keep_alive_s"],
            .double(3_153_600_000))
        _ = try client.call("server.keep_alive", ["handle": handle, "seconds": 0])  // unloaded when let go
        _ = try client.call("rkllm.destroy", ["handle": handle])
        XCTAssertEqual(try client.call("server.ping"), "pong")
        client.hangUp()
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testDurationSettingsPastTheMaximumAreUsageErrors() throws {
        for (flag, value) in [("--keep-alive", "1e300"), ("--http-timeout", "2e10"), ("--queue-timeout", "inf")] {
            let (status, output) = try runToEnd(
                Built.server, ["--socket", "/tmp/rkllm-unused-\(getpid()).sock", flag, value], environment: [:])
            XCTAssertEqual(status, 2, "\(flag) \(value): \(output)")
            XCTAssertTrue(output.contains("3153600000"), output)
        }
    }
}
