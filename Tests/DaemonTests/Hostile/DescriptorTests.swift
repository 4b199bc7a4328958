import BindingRuntime
import CLinux
import Foundation
import XCTest

/// Descriptors: those a client sends belong to the request line they came with, and a daemon out
/// of descriptors answers new clients instead of spinning, and serves again when one frees.
final class DescriptorTests: XCTestCase {
    func testDescriptorsBelongToTheRequestTheyCameWith() throws {
        let daemon = try Bystander.daemon()
        let bystander = try Bystander(daemon)
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        let baseline = try openFDs(daemon.process.processIdentifier)
        func send(_ id: Int, _ method: String, _ params: JSONValue, fds: [Int32]) throws -> JSONValue {
            let request: JSONValue = [
                "jsonrpc": "2.0", "id": .int(Int64(id)), "method": .string(method), "params": params,
            ]
            try client.send(request.jsonText + "\n", fds: fds)
            fds.forEach { Glibc.close($0) }
            return try client.readMessage()
        }
        func memfd() -> Int32 {
            let fd = clinux_sealable_memfd("m")
            ftruncate(fd, 4096)
            return fd
        }
        // A pipe sent with a request that takes none: refused, closed, and not left for the next one.
        var pipeEnds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        let ping = try send(1, "server.ping", [], fds: [pipeEnds[0]])
        Glibc.close(pipeEnds[1])
        XCTAssertEqual(ping["error"]?["code"], .int(Int64(RPCError.Code.invalidParams)))
        XCTAssertEqual(
            ping["error"]?["message"], "server.ping takes no file descriptors; those sent with it were closed")
        let made = try send(
            2, "rknn.create_mem_from_fd", ["ctx": context, "fd": 0, "size": 4096, "offset": 0], fds: [memfd()])
        XCTAssertNotNil(made["result"]?["return"], "the memfd sent with it, not the earlier pipe: \(made)")
        // None sent: the request says so; two sent for one: the extra one is closed.
        let missing = try send(
            3, "rknn.create_mem_from_fd", ["ctx": context, "fd": 0, "size": 4096, "offset": 0], fds: [])
        XCTAssertEqual(missing["error"]?["code"], .int(Int64(RPCError.Code.invalidParams)))
        let twice = try send(
            4, "rknn.create_mem_from_fd", ["ctx": context, "fd": 0, "size": 4096, "offset": 0], fds: [memfd(), memfd()])
        XCTAssertNotNil(twice["result"]?["return"])
        XCTAssertEqual(try client.call("rknn.destroy_mem", [context, made["result"]!["return"]!]), .object([:]))
        XCTAssertEqual(try client.call("rknn.destroy_mem", [context, twice["result"]!["return"]!]), .object([:]))
        XCTAssertEqual(
            try settled(daemon.process.processIdentifier, at: baseline), baseline, "the daemon keeps none of them")
        XCTAssertEqual(try client.call("server.ping"), "pong")
        client.hangUp()
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testOutOfFileDescriptorsNewClientsAreToldWhyAndServedAgainWhenOneFrees() throws {
        let daemon = try Bystander.daemon()
        let bystander = try Bystander(daemon)
        let pid = daemon.process.processIdentifier
        // A few descriptors of room, as a daemon whose connections used up its limit.
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        XCTAssertEqual(clinux_set_file_limit(pid, UInt(open + 6)), 0)
        var held: [Client] = []
        var refusals: [JSONValue] = []
        for _ in 0..<40 where refusals.count < 5 {
            let client = try Client(daemon.socket)
            try? client.send(#"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"# + "\n")
            let reply = try client.readMessage()
            if reply["result"] == "pong" { held.append(client) } else { refusals.append(reply) }
        }
        XCTAssertFalse(held.isEmpty)
        XCTAssertEqual(refusals.count, 5, "refused, each with an answer, not left waiting")
        for refusal in refusals {
            XCTAssertEqual(refusal["error"]?["code"], .int(Int64(RPCError.Code.tooManyConnections)))
            XCTAssertEqual(refusal["error"]?["message"], "the server is out of file descriptors")
        }
        XCTAssertEqual(
            daemon.log.components(separatedBy: "accept: out of file descriptors").count - 1, 1,
            "logged once for the episode")
        // One connection goes (the bystander's stays): the next client is served.
        held.removeLast().hangUp()
        let deadline = Date().addingTimeInterval(60)
        while try held[0].call("server.stats")["connections"]?["open"] != .int(Int64(held.count + 1))
            && Date() < deadline
        { usleep(10_000) }
        XCTAssertEqual(try Client(daemon.socket).call("server.ping"), "pong")
        XCTAssertTrue(daemon.log.contains("accepting connections again"), daemon.log)
        held.forEach { $0.hangUp() }
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testOutOfFileDescriptorsHTTPClientsGetA503AndTheListenerDoesNotSpin() throws {
        let (daemon, port) = try HTTPConnection.daemon([], ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
        let bystander = try Bystander(daemon)
        let pid = daemon.process.processIdentifier
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        XCTAssertEqual(clinux_set_file_limit(pid, UInt(open + 6)), 0)
        var held: [HTTPConnection] = []
        var refused = 0
        for _ in 0..<40 where refused < 5 {
            let http = try HTTPConnection(port: port)
            try? http.send("GET /api/version HTTP/1.1\r\n\r\n")
            let (status, headers) = try http.head()
            if status == 200 {
                _ = try http.rest(of: headers)
                held.append(http)
            } else {
                XCTAssertEqual(status, 503)
                XCTAssertEqual(headers["retry-after"], "1")
                XCTAssertTrue(
                    String(decoding: try http.rest(of: headers), as: UTF8.self).contains("out of file descriptors"))
                refused += 1
            }
        }
        XCTAssertFalse(held.isEmpty)
        XCTAssertEqual(refused, 5, "refused, each with an answer, not left waiting")
        XCTAssertFalse(daemon.log.contains("HTTP accept:"), "no log line per failed accept")
        XCTAssertEqual(daemon.log.components(separatedBy: "accept: out of file descriptors").count - 1, 1)
        // One goes: the next HTTP client is served.
        held.removeLast().close()
        let client = try Client(daemon.socket)
        let deadline = Date().addingTimeInterval(60)
        while try client.call("server.stats")["connections"]?["open"] != .int(Int64(held.count + 2))
            && Date() < deadline
        {
            usleep(10_000)
        }
        client.hangUp()
        let next = try HTTPConnection(port: port)
        try next.send("GET /api/version HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try next.response().status, 200)
        next.close()
        held.forEach { $0.close() }
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testAClientSendingDescriptorsByTheThousandWritesAFewLinesOfLog() throws {
        let daemon = try Bystander.daemon()
        let bystander = try Bystander(daemon)
        let attacker = try Client(daemon.socket)
        let id = try XCTUnwrap(attacker.call("server.stats")["connections"]?["accepted"])
        let ping = #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"# + "\n"
        let spare = (0..<16).map { _ in open("/dev/null", O_RDONLY) }
        defer { spare.forEach { close($0) } }
        for round in 0..<500 {
            // Sixteen descriptors no request takes; every tenth line sends five batches, past the line's 64.
            if round % 10 == 0 {
                for _ in 0..<5 { try attacker.send(" ", fds: spare) }
            }
            try attacker.send(ping, fds: spare)
            XCTAssertEqual(
                try attacker.readMessage()["id"], 1, "each line answered (a refusal: it takes no descriptor)")
        }
        let lines = daemon.log.split(separator: "\n").filter { $0.contains("conn=\(id.jsonText) ") }
        XCTAssertLessThanOrEqual(lines.count, 4, "one line per cause, whole: \(lines.prefix(6))")
        attacker.hangUp()
        // Gone: the episode's count is written at once (sixteen closed per tenth line, but the first).
        let summary = "descriptors past the line's limit: 1,599 more in the last 10 s"
        let deadline = Date().addingTimeInterval(60)
        while !daemon.log.contains(summary) && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(
            daemon.log.contains(summary),
            daemon.log.split(separator: "\n").filter { $0.contains("descriptor") }.joined(separator: " / "))
        try bystander.assertUnharmed()
        daemon.assertStopsCleanly()
    }
}
