import BindingRuntime
import CLinux
import Foundation
import XCTest

/// The daemon's HTTP front over TCP: keep-alive and pipelining, streaming, the bearer token, the
/// connection limit shared with the socket, bounded requests, and a client that leaves mid-stream
/// (its generation stops and what it held is released). The dialects themselves are driven by
/// OpenAI's and Ollama's own clients (Tests/HTTPDialects).
final class HTTPTests: XCTestCase {
    private func daemon(_ arguments: [String] = [], _ environment: [String: String] = [:]) throws -> (Daemon, UInt16) {
        try HTTPConnection.daemon(arguments, environment)
    }

    func testKeepAlivePipeliningAndRefusals() throws {
        let (daemon, port) = try daemon()
        defer { daemon.assertStopsCleanly() }
        let http = try HTTPConnection(port: port)
        // Two requests in one write: two responses, in order, on the one connection.
        try http.send("GET /api/version HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        let version = try http.response()
        XCTAssertEqual(version.status, 200)
        XCTAssertEqual(try JSONParser.parse(version.body)["version"], "0.1.0")
        XCTAssertEqual(try JSONParser.parse(try http.response().body)["data"]?[0]?["id"], "demo")
        try http.send("GET /nowhere HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try http.response().status, 404)
        try http.send("DELETE /api/tags HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try http.response().status, 405)
        // A request body in chunks.
        try http.send(
            "POST /api/show HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"model\r\na\r\n\": \"demo\"}\r\n0\r\n\r\n"
        )
        XCTAssertEqual(try JSONParser.parse(try http.response().body)["details"]?["format"], "rkllm")
        // A request that could be smuggled: refused, and the connection closed.
        try http.send("POST /api/show HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}")
        XCTAssertEqual(try http.response().status, 400)
        XCTAssertTrue(try http.isClosed())
    }

    func testBoundedRequestsAndTheBearerToken() throws {
        let (daemon, port) = try daemon(["--http-token", "s3cret", "--max-message-bytes", "4096"])
        defer { daemon.assertStopsCleanly() }
        let refused = try HTTPConnection(port: port)
        try refused.send("GET /api/version HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try refused.response().status, 401)
        XCTAssertTrue(try refused.isClosed(), "refused on its head: the connection ends")
        let http = try HTTPConnection(port: port)
        try http.send("GET /api/version HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n")
        XCTAssertEqual(try http.response().status, 200)
        let big = String(repeating: "x", count: 5000)
        try http.send("POST /api/chat HTTP/1.1\r\nAuthorization: Bearer s3cret\r\nContent-Length: 5000\r\n\r\n\(big)")
        XCTAssertEqual(try http.response().status, 413)
        let head = try HTTPConnection(port: port)
        try head.send("GET /api/version HTTP/1.1\r\nX: \(String(repeating: "y", count: 20000))\r\n\r\n")
        XCTAssertEqual(try head.response().status, 431)
    }

    func testHTTPClientsHaveALimitOfTheirOwnApartFromTheSockets() throws {
        let (daemon, port) = try daemon(["--max-connections", "2", "--http-max-connections", "1"])
        defer { daemon.assertStopsCleanly() }
        let socketClient = try Client(daemon.socket)
        let first = try HTTPConnection(port: port)
        try first.send("GET /api/version HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try first.response().status, 200)
        let second = try HTTPConnection(port: port)
        let refusal = try second.head()
        XCTAssertEqual(refusal.status, 503)
        XCTAssertEqual(refusal.headers["retry-after"], "1")
        // The socket's clients are counted apart: the second is served though HTTP is full.
        let secondSocketClient = try Client(daemon.socket)
        XCTAssertEqual(try secondSocketClient.call("server.ping"), "pong")
        XCTAssertEqual(try socketClient.call("server.stats")["connections"]?["open"], 3)
    }

    func testAClientGoneMidStreamStopsItsGeneration() throws {
        let (daemon, port) = try daemon([], ["RKLLM_SIM_TOKEN_US": "100000"])
        defer { daemon.assertStopsCleanly() }
        let body = #"{"model": "demo", "messages": [{"role": "user", "content": "hello world"}]}"#
        let http = try HTTPConnection(port: port)
        try http.send("POST /api/chat HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let head = try http.head()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["transfer-encoding"], "chunked")
        XCTAssertTrue(try http.chunk().contains(#""content":"Hello""#))
        http.close()
        // The daemon ends the run and releases the model; the next request is served at once.
        let client = try Client(daemon.socket)
        let deadline = Date().addingTimeInterval(60)
        var rkllm: JSONValue?
        repeat {
            rkllm = try client.call("server.stats")["runtimes"]?["rkllm"]
        } while (rkllm?["streams_running"] != 0 || rkllm?["handles"] != 0) && Date() < deadline
        XCTAssertEqual(rkllm?["streams_running"], 0)
        XCTAssertEqual(rkllm?["handles"], 0)
        let next = try HTTPConnection(port: port)
        let short = #"{"model": "demo", "stream": false, "prompt": "hello world", "options": {"num_predict": 1}}"#
        try next.send("POST /api/generate HTTP/1.1\r\nContent-Length: \(short.utf8.count)\r\n\r\n\(short)")
        XCTAssertEqual(try JSONParser.parse(try next.response().body)["response"], "Hello")
    }
    func testAPortAloneIsLoopbacksAndTwoAuthorizationHeadersAreRefused() throws {
        let daemon = try RKLLMTests.simulated([:], arguments: ["--http", "0", "--http-token", "s3cret"])
        defer { daemon.assertStopsCleanly() }
        let port = try HTTPConnection.port(of: daemon)
        XCTAssertFalse(daemon.log.contains("without a token"), "loopback with a token: no warning")
        let twice = try HTTPConnection(port: port)
        try twice.send(
            "GET /api/version HTTP/1.1\r\nAuthorization: Bearer s3cret\r\nAuthorization: Bearer other\r\n\r\n")
        let (status, body) = try twice.response()
        XCTAssertEqual(status, 400)
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains("more than one Authorization header"))
        // On every address without a token: a warning that says how to set one.
        let open = try RKLLMTests.simulated([:], arguments: ["--http", "0.0.0.0:0"])
        defer { open.assertStopsCleanly() }
        let deadline = Date().addingTimeInterval(60)
        while !open.log.contains("without a token") && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(open.log.contains("without a token: every host that reaches it may use the NPU"), open.log)
        XCTAssertTrue(open.log.contains("--http-token"))
    }

    func testQuietConnectionsAndSlowRequestsTimeOut() throws {
        let (daemon, port) = try daemon(["--http-timeout", "0.5"])
        defer { daemon.assertStopsCleanly() }
        let quiet = try HTTPConnection(port: port)
        XCTAssertTrue(try quiet.isClosed(), "a connection with no request is closed")
        let slow = try HTTPConnection(port: port)
        try slow.send("GET /api/version HTTP/1.1\r\nHost:")
        XCTAssertEqual(try slow.response().status, 408)
        XCTAssertTrue(try slow.isClosed())
        slow.close()  // the daemon lingers over what a refused client still sends, until it goes
        let client = try Client(daemon.socket)
        let deadline = Date().addingTimeInterval(60)
        while try client.call("server.stats")["connections"]?["open"] != 1 && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(try client.call("server.stats")["connections"]?["open"], 1, "only the socket client is left")
    }
}
