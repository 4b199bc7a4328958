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
        let daemon = try RKLLMTests.simulated(environment, arguments: ["--http", "127.0.0.1:0"] + arguments)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let range = daemon.log.range(of: #"HTTP on 127\.0\.0\.1:\d+"#, options: .regularExpression),
                let port = UInt16(daemon.log[range].split(separator: ":").last ?? "")
            {
                return (daemon, port)
            }
            usleep(10_000)
        }
        throw Failure("no HTTP address in the log: \(daemon.log)")
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
        let http = try HTTPConnection(port: port)
        try http.send("GET /api/version HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try http.response().status, 401)
        try http.send("GET /api/version HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n")
        XCTAssertEqual(try http.response().status, 200)
        let big = String(repeating: "x", count: 5000)
        try http.send("POST /api/chat HTTP/1.1\r\nAuthorization: Bearer s3cret\r\nContent-Length: 5000\r\n\r\n\(big)")
        XCTAssertEqual(try http.response().status, 413)
        let head = try HTTPConnection(port: port)
        try head.send("GET /api/version HTTP/1.1\r\nX: \(String(repeating: "y", count: 20000))\r\n\r\n")
        XCTAssertEqual(try head.response().status, 431)
    }

    func testHTTPClientsCountAgainstTheConnectionLimit() throws {
        let (daemon, port) = try daemon(["--max-connections", "2"])
        defer { daemon.assertStopsCleanly() }
        let socketClient = try Client(daemon.socket)
        let first = try HTTPConnection(port: port)
        try first.send("GET /api/version HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try first.response().status, 200)
        let third = try HTTPConnection(port: port)
        XCTAssertEqual(try third.response().status, 503)
        XCTAssertEqual(try socketClient.call("server.stats")["connections"]?["open"], 2)
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
    func testQuietConnectionsAndSlowRequestsTimeOut() throws {
        let (daemon, port) = try daemon(["--http-timeout", "0.5"])
        defer { daemon.assertStopsCleanly() }
        let quiet = try HTTPConnection(port: port)
        XCTAssertTrue(try quiet.isClosed(), "a connection with no request is closed")
        let slow = try HTTPConnection(port: port)
        try slow.send("GET /api/version HTTP/1.1\r\nHost:")
        XCTAssertEqual(try slow.response().status, 408)
        XCTAssertTrue(try slow.isClosed())
        let client = try Client(daemon.socket)
        XCTAssertEqual(try client.call("server.stats")["connections"]?["open"], 1, "only the socket client is left")
    }
}

/// A blocking HTTP/1.1 client connection for the tests (60 s to each read).
private final class HTTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure("connect to port \(port): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count
        else { throw Failure("send: \(String(cString: strerror(errno)))") }
    }

    /// Reads more into the buffer; false at the end of the stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n >= 0 else { throw Failure("recv: \(String(cString: strerror(errno)))") }
        buffer += chunk[..<n]
        return n > 0
    }

    private func line() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let text = String(decoding: buffer[..<newline], as: UTF8.self).trimmingCharacters(in: .newlines)
                buffer.removeSubrange(...newline)
                return text
            }
            guard try fill() else { throw Failure("the connection ended mid-line") }
        }
    }

    func head() throws -> (status: Int, headers: [String: String]) {
        let status = Int(try line().split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        while case let field = try line(), !field.isEmpty {
            let parts = field.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        return (status, headers)
    }

    /// The next chunk of a chunked body ("" at its end).
    func chunk() throws -> String {
        let size = Int(try line(), radix: 16) ?? 0
        while buffer.count < size + 2 { guard try fill() else { throw Failure("the connection ended mid-chunk") } }
        let text = String(decoding: buffer[..<size], as: UTF8.self)
        buffer.removeFirst(size + 2)
        return text
    }

    func response() throws -> (status: Int, body: [UInt8]) {
        let (status, headers) = try head()
        if headers["transfer-encoding"] == "chunked" {
            var body = ""
            while case let piece = try chunk(), !piece.isEmpty { body += piece }
            return (status, Array(body.utf8))
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length { guard try fill() else { throw Failure("the connection ended mid-body") } }
        defer { buffer.removeFirst(length) }
        return (status, Array(buffer[..<length]))
    }

    func isClosed() throws -> Bool { try buffer.isEmpty && !fill() }
}
