import BindingRuntime
import Foundation
import XCTest

/// Overall caps: incomplete lines and unread replies of all clients together, and runtime host
/// processes. Passing one costs the client that passes it, never a bystander.
final class CapTests: XCTestCase {
    /// `member` of server.stats' connections, once it satisfies `condition` (the daemon's own
    /// account: the test waits for the event, not for time).
    private func waitForStat(_ client: Client, _ member: String, _ condition: (Int64) -> Bool) throws -> Int64 {
        let deadline = Date().addingTimeInterval(60)
        while true {
            guard case .int(let value)? = try client.call("server.stats")["connections"]?[member] else {
                throw Failure("no \(member)")
            }
            if condition(value) || Date() > deadline { return value }
            usleep(10_000)
        }
    }

    func testIncompleteLinesOfAllClientsTogetherAreCapped() throws {
        let daemon = try Bystander.daemon(arguments: [
            "--max-buffered-input", "1000000", "--max-message-bytes", "4000000",
        ])
        let witness = try Bystander(daemon)
        let bystander = witness.client
        let part =
            [UInt8](#"{"jsonrpc":"2.0","id":1,"method":"server.ping","params":{"pad":""#.utf8)
            + [UInt8](repeating: 0x61, count: 400_000)
        let clients = try (0..<3).map { _ in try Client(daemon.socket) }
        try clients[0].send(part)
        XCTAssertGreaterThanOrEqual(try waitForStat(bystander, "buffered_input_bytes") { $0 >= 400_000 }, 400_000)
        try clients[1].send(part)
        XCTAssertGreaterThanOrEqual(try waitForStat(bystander, "buffered_input_bytes") { $0 >= 800_000 }, 800_000)
        // The third line would pass the cap: that client is told, its line dropped, the rest skipped.
        try clients[2].send(part)
        let refused = try clients[2].readMessage()
        XCTAssertEqual(refused["error"]?["code"], .int(Int64(RPCError.Code.limitExceeded)))
        XCTAssertEqual(refused["error"]?["data"]?["limit"], "max_buffered_input")
        XCTAssertLessThanOrEqual(try waitForStat(bystander, "buffered_input_bytes") { $0 <= 1_000_000 }, 1_000_000)
        try clients[2].send(Array(#""}}"#.utf8) + [0x0A])
        XCTAssertEqual(try clients[2].call("server.ping"), "pong", "its next line is read as usual")
        // The two whose lines fit finish them and are answered.
        for client in clients[0..<2] {
            try client.send(Array(#""}}"#.utf8) + [0x0A])
            XCTAssertEqual(try client.readMessage()["result"], "pong")
        }
        XCTAssertEqual(try bystander.call("server.ping"), "pong")
        XCTAssertEqual(try waitForStat(bystander, "buffered_input_bytes") { $0 == 0 }, 0, "nothing held once lines end")
        clients.forEach { $0.hangUp() }
        try witness.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testUnreadRepliesOfAllClientsTogetherAreCapped() throws {
        let daemon = try Bystander.daemon(arguments: [
            "--max-buffered-output", "1500000", "--max-output-bytes", "1400000",
        ])
        let witness = try Bystander(daemon)
        let bystander = witness.client
        let document = try bystander.call("rpc.discover").jsonText.utf8.count
        // Each asks for 1.2 MB it does not read: what the socket does not take waits in the daemon
        // (all of it at first: the replies to one read are written together).
        let count = 1_200_000 / document + 1
        let line = String(repeating: #"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"# + "\n", count: count)
        let readers = try (0..<2).map { _ in try Client(daemon.socket) }
        try readers[0].send(line)
        XCTAssertGreaterThanOrEqual(try waitForStat(bystander, "buffered_output_bytes") { $0 >= 700_000 }, 700_000)
        XCTAssertEqual(
            try waitForStat(bystander, "dropped_slow_readers") { $0 == 0 }, 0,
            "under its own limit, and under the total")
        try readers[1].send(line)
        XCTAssertEqual(
            try waitForStat(bystander, "dropped_slow_readers") { $0 == 1 }, 1,
            "one of them, the one with more unread, goes")
        XCTAssertLessThanOrEqual(try waitForStat(bystander, "buffered_output_bytes") { $0 <= 1_500_000 }, 1_500_000)
        readers.forEach { $0.hangUp() }
        XCTAssertEqual(try waitForStat(bystander, "buffered_output_bytes") { $0 == 0 }, 0)
        try witness.assertUnharmed()
        daemon.assertStopsCleanly()
    }

    func testRuntimeHostProcessesAreCappedAndAnIdleOneMakesRoom() throws {
        let daemon = try RKLLMTests.simulated(["RKLLM_KEEP_ALIVE": "300"], arguments: ["--max-runtime-hosts", "2"])
        let clients = try (0..<3).map { _ in try Client(daemon.socket) }
        func initialize(_ client: Client, contextLength: Int) throws -> JSONValue {
            try client.request(
                "rkllm.init", [["model_path": "demo.rkllm", "max_context_len": .int(Int64(contextLength))]])
        }
        let first = try XCTUnwrap(try initialize(clients[0], contextLength: 256)["result"]?["handle"])
        XCTAssertNotNil(try initialize(clients[1], contextLength: 512)["result"]?["handle"])
        let third = try initialize(clients[2], contextLength: 1024)
        XCTAssertEqual(third["error"]?["code"], .int(Int64(RPCError.Code.limitExceeded)))
        XCTAssertEqual(third["error"]?["data"]?["limit"], "max_runtime_hosts")
        // The first client lets go: its instance is kept alive for no one, and makes room.
        XCTAssertEqual(try clients[0].call("rkllm.destroy", [first]), .object([:]))
        XCTAssertNotNil(try initialize(clients[2], contextLength: 1024)["result"]?["handle"])
        XCTAssertEqual(
            try initialize(clients[0], contextLength: 256)["error"]?["data"]?["limit"], "max_runtime_hosts",
            "the instance made room: not there to join; no host idle now")
        XCTAssertEqual(try clients[0].call("server.stats")["runtimes"]?["rkllm"]?["hosts_running"], 2)
        daemon.assertStopsCleanly()
    }
}
