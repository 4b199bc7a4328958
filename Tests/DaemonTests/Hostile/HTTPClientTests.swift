import BindingRuntime
import CLinux
import Foundation
import XCTest

/// HTTP clients as a hostile neighbour writes them: bodies without the token, bodies that together
/// pass the input cap, pipelines never read, heads and bodies a byte at a time, idle connections by
/// the hundred. Each is refused or bounded, the socket's clients are served meanwhile, and a
/// bystander is unharmed.
final class HTTPClientTests: XCTestCase {
    private static let token = "s3cret"

    private func daemon(_ arguments: [String] = []) throws -> (Daemon, UInt16) {
        try HTTPConnection.daemon(
            ["--http-token", Self.token] + arguments, ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
    }

    func testABodyWithoutTheTokenIsRefusedOnItsHeadAndPingsStayQuick() throws {
        let (daemon, port) = try daemon()
        let bystander = try Bystander(daemon)
        // Twelve heads of 59 MB bodies: each answered 401 before a byte of its body is sent.
        for _ in 0..<12 {
            let http = try HTTPConnection(port: port)
            try http.send("POST /api/chat HTTP/1.1\r\nContent-Length: 59000000\r\n\r\n")
            XCTAssertEqual(try http.response().status, 401)
        }
        // A 48 MB body sent anyway, while a socket client pings.
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 48 << 20)
        let sender = Thread {
            guard let http = try? HTTPConnection(port: port) else { return }
            try? http.send("POST /api/chat HTTP/1.1\r\nContent-Length: \(body.count)\r\n\r\n")
            try? http.send(body)
        }
        sender.start()
        let pinger = try Client(daemon.socket)
        var times: [Double] = []
        for _ in 0..<300 {
            let start = Date()
            XCTAssertEqual(try pinger.call("server.ping"), "pong")
            times.append(Date().timeIntervalSince(start))
        }
        times.sort()
        // Generous for a sanitizer build on a busy machine; the body held the loop for seconds before.
        XCTAssertLessThan(times[times.count * 99 / 100], 0.25, "p99 of pings while the body arrives")
        if !Built.sanitized {
            XCTAssertLessThan(daemon.residentKiB - bystander.residentKiBAtStart, 64 << 10, "no body was kept")
        }
        pinger.hangUp()
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testBodiesThatTogetherPassTheInputCapGetA503BeforeTheyAreRead() throws {
        let (daemon, port) = try daemon(["--max-buffered-input", "\(160 << 20)"])
        let bystander = try Bystander(daemon)
        var held: [HTTPConnection] = []
        var refused = 0
        for _ in 0..<12 {
            let http = try HTTPConnection(port: port)
            try http.send(
                "POST /api/chat HTTP/1.1\r\nAuthorization: Bearer \(Self.token)\r\nContent-Length: 59000000\r\n\r\n")
            try http.send([UInt8](repeating: UInt8(ascii: " "), count: 1 << 20))
            held.append(http)
        }
        // Two fit in 160 MB, declared; the others are told at once (their heads arrive in order).
        for http in held.dropFirst(2) {
            let (status, headers) = try http.head()
            XCTAssertEqual(status, 503)
            XCTAssertEqual(headers["retry-after"], "1")
            refused += 1
        }
        XCTAssertEqual(refused, 10)
        let client = try Client(daemon.socket)
        let stats = try client.call("server.stats")["connections"]
        XCTAssertLessThanOrEqual(stats?["buffered_input_bytes"]?.intValue ?? .max, 160 << 20)
        held.forEach { $0.close() }
        let deadline = Date().addingTimeInterval(60)
        while try client.call("server.stats")["connections"]?["buffered_input_bytes"] != 0 && Date() < deadline {
            usleep(10_000)
        }
        XCTAssertEqual(try client.call("server.stats")["connections"]?["buffered_input_bytes"], 0)
        client.hangUp()
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testPipelinesNeverReadHoldOneResponseEach() throws {
        let (daemon, port) = try daemon(["--max-output-bytes", "65536"])
        let bystander = try Bystander(daemon)
        let request = "GET /api/version HTTP/1.1\r\nAuthorization: Bearer \(Self.token)\r\n\r\n"
        let pipeline = Array(String(repeating: request, count: 5000).utf8)
        var connections: [HTTPConnection] = []
        for _ in 0..<20 {
            let http = try HTTPConnection(port: port)
            http.sendWithoutWaiting(pipeline)
            connections.append(http)
        }
        let client = try Client(daemon.socket)
        let stats = try client.call("server.stats")["connections"]
        // At most one unwritten response per connection, and the next requests' heads, are held.
        XCTAssertLessThan(stats?["buffered_output_bytes"]?.intValue ?? .max, 20 * 65536)
        XCTAssertLessThan(stats?["buffered_input_bytes"]?.intValue ?? .max, 20 * (16 << 10 + 64 << 10))
        if !Built.sanitized { XCTAssertLessThan(daemon.residentKiB - bystander.residentKiBAtStart, 64 << 10) }
        connections.forEach { $0.close() }
        client.hangUp()
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testAHeadOrABodyTrickledInGetsA408AtItsDeadlineFromItsFirstByte() throws {
        let (daemon, port) = try daemon(["--http-timeout", "1"])
        defer { daemon.assertStopsCleanly() }
        let head = "GET /api/version HTTP/1.1\r\nAuthorization: Bearer \(Self.token)\r\nX-Slow: "
        let body = "POST /api/show HTTP/1.1\r\nAuthorization: Bearer \(Self.token)\r\nContent-Length: 1000\r\n\r\n{"
        for (start, what) in [(head, "head"), (body, "body")] {
            let http = try HTTPConnection(port: port)
            try http.send(start)
            // A byte every 50 ms, for up to 30 s: the deadline is 1 s after the first byte, not after the last.
            var answered = false
            for _ in 0..<600 where !answered {
                usleep(50_000)
                guard (try? http.send("a")) != nil else { break }
                answered = http.hasBytesToRead()
            }
            let (status, _) = try http.response()
            XCTAssertEqual(status, 408, what)
            XCTAssertTrue(try http.isClosed(), what)
        }
    }

    func testIdleAndUnauthenticatedTCPConnectionsNeverShutOutTheSocketsClients() throws {
        let (daemon, port) = try daemon(["--max-connections", "64", "--http-max-unauthenticated", "16"])
        let bystander = try Bystander(daemon)
        let idle = try (0..<300).map { _ in try HTTPConnection(port: port) }
        // The socket's clients are served: TCP connections have limits of their own.
        let socketClients = try (0..<60).map { _ in try Client(daemon.socket) }
        for client in socketClients { XCTAssertEqual(try client.call("server.ping"), "pong") }
        // Only the newest 16 not yet authenticated are kept: the others were closed as more came.
        let expected = 60 + 1 + 16  // these socket clients, the bystander's, 16 TCP
        let deadline = Date().addingTimeInterval(60)
        while try socketClients[0].call("server.stats")["connections"]?["open"]?.intValue != expected
            && Date() < deadline
        { usleep(10_000) }
        XCTAssertEqual(try socketClients[0].call("server.stats")["connections"]?["open"]?.intValue, expected)
        var served = 0
        for http in idle {
            guard (try? http.send("GET /api/version HTTP/1.1\r\nAuthorization: Bearer \(Self.token)\r\n\r\n")) != nil,
                let response = try? http.response()
            else { continue }
            if response.status == 200 { served += 1 }
        }
        XCTAssertEqual(served, 16)
        idle.forEach { $0.close() }
        socketClients.forEach { $0.hangUp() }
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }
}
