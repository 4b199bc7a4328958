import BindingRuntime
import CLinux
import Foundation
import XCTest

/// Connection, message and output limits: the daemon and other clients are never harmed.
final class LimitsTests: XCTestCase {
    func testAThousandConcurrentConnections() throws {
        let daemon = try Daemon()
        let clients = try (0..<1000).map { _ in try Client(daemon.socket) }
        for (i, client) in clients.enumerated() {
            try client.send(#"{"jsonrpc":"2.0","id":\#(i),"method":"server.ping"}"# + "\n")
        }
        for (i, client) in clients.enumerated() {
            let reply = try client.readMessage()
            XCTAssertEqual(reply["id"], .int(Int64(i)))
            XCTAssertEqual(reply["result"], "pong")
        }
        XCTAssertEqual(try clients[0].call("server.stats")["connections"]?["open"], 1000)
        daemon.assertStopsCleanly()
    }

    func testTheConnectionOverTheLimitGetsAnErrorThenClose() throws {
        let daemon = try Daemon(arguments: ["--max-connections", "3"])
        let held = try (0..<2).map { _ in try Client(daemon.socket) }  // + the probe of waitUntilServing, closed
        for client in held { XCTAssertEqual(try client.call("server.ping"), "pong") }
        let deadline = Date().addingTimeInterval(60)
        while try held[0].call("server.stats")["connections"]?["open"] != 2 && Date() < deadline { usleep(10_000) }
        let third = try Client(daemon.socket)
        XCTAssertEqual(try third.call("server.ping"), "pong")
        let fourth = try Client(daemon.socket)
        let refusal = try fourth.readMessage()
        XCTAssertEqual(refusal["error"]?["code"], .int(Int64(RPCError.Code.tooManyConnections)))
        XCTAssertNil(try fourth.readLine(), "closed after the error")
        XCTAssertEqual(try third.call("server.ping"), "pong")
        XCTAssertEqual(try held[0].call("server.stats")["connections"]?["rejected"], 1)
        daemon.assertStopsCleanly()
    }

    func testAnOverlongLineIsAnErrorAndTheNextLineIsServed() throws {
        let daemon = try Daemon(arguments: ["--max-message-bytes", "1024"])
        let client = try Client(daemon.socket)
        try client.send(
            String(repeating: "x", count: 5000) + "\n" + #"{"jsonrpc":"2.0","id":2,"method":"server.ping"}"# + "\n")
        let error = try client.readMessage()
        XCTAssertEqual(error["error"]?["code"], -32600)
        XCTAssertEqual(error["error"]?["data"]?["limit"], 1024)
        XCTAssertEqual(try client.readMessage()["result"], "pong")
        // Longer than a whole read, split across sends.
        for _ in 0..<4 { try client.send(String(repeating: "y", count: 100_000)) }
        try client.send("\n" + #"{"jsonrpc":"2.0","id":3,"method":"server.ping"}"# + "\n")
        XCTAssertEqual(try client.readMessage()["error"]?["code"], -32600)
        XCTAssertEqual(try client.readMessage()["id"], 3)
        daemon.assertStopsCleanly()
    }

    func testHalfAMessageThenHangUpHarmsNoOne() throws {
        let daemon = try Daemon()
        let other = try Client(daemon.socket)
        do {
            let leaving = try Client(daemon.socket)
            try leaving.send(#"{"jsonrpc":"2.0","id":1,"meth"#)
        }
        XCTAssertEqual(try other.call("server.ping"), "pong")
        let deadline = Date().addingTimeInterval(60)
        while try other.call("server.stats")["connections"]?["open"] != 1 && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(try other.call("server.stats")["connections"]?["open"], 1)
        daemon.assertStopsCleanly()
    }

    func testAClientThatStopsSendingStillGetsItsAnswersThenEOF() throws {
        let daemon = try Daemon(environment: ["RKLLM_RUNTIME_LIB": Built.faultRuntime])
        let client = try Client(daemon.socket)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        try client.send(
            #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"# + "\n"
                + #"{"jsonrpc":"2.0","id":2,"method":"rkllm.run","params":[\#(handle.jsonText),{"prompt_input":"a b"}]}"#
                + "\n")
        shutdown(client.fd, Int32(SHUT_WR))
        var ids: [JSONValue] = []
        while let line = try client.readLine() { ids.append(try JSONParser.parse(line)["id"] ?? .null) }
        XCTAssertEqual(ids, [1, 2, 2, 2], "pong, two tokens, the finish as the run's answer; then end of stream")
        daemon.assertStopsCleanly()
    }

    func testAReplyLargerThanTheOutputLimitIsAnErrorToItsRequest() throws {
        let daemon = try Daemon(arguments: ["--max-output-bytes", "4096"])
        let client = try Client(daemon.socket)
        // The OpenRPC document is far larger than 4 KiB.
        try client.send(#"{"jsonrpc":"2.0","id":"doc","method":"rpc.discover"}"# + "\n")
        let refused = try client.readMessage()
        XCTAssertEqual(refused["id"], "doc")
        XCTAssertEqual(refused["error"]?["code"], .int(Int64(RPCError.Code.limitExceeded)))
        XCTAssertEqual(refused["error"]?["data"]?["limit"], "max_output_bytes")
        // In a batch: that reply alone is replaced; a batch whose replies together pass the limit is one error.
        try client.send(
            #"[{"jsonrpc":"2.0","id":1,"method":"rpc.discover"},{"jsonrpc":"2.0","id":2,"method":"server.ping"}]"#
                + "\n")
        guard case .array(let replies) = try client.readMessage() else { return XCTFail("a batch answers an array") }
        XCTAssertEqual(replies.count, 2)
        XCTAssertEqual(replies.first { $0["id"] == 1 }?["error"]?["code"], .int(Int64(RPCError.Code.limitExceeded)))
        XCTAssertEqual(replies.first { $0["id"] == 2 }?["result"], "pong")
        let pings = (0..<200).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"server.ping"}"# }.joined(separator: ",")
        try client.send("[\(pings)]\n")
        let whole = try client.readMessage()
        XCTAssertEqual(whole["id"], .null)
        XCTAssertEqual(whole["error"]?["code"], .int(Int64(RPCError.Code.limitExceeded)))
        XCTAssertEqual(try client.call("server.ping"), "pong", "the client is still served")
        XCTAssertEqual(try client.call("server.stats")["connections"]?["replies_too_large"], 3)
        daemon.assertStopsCleanly()
    }

    func testAClientThatNeverReadsIsDroppedAndOthersAreServed() throws {
        let daemon = try Daemon(arguments: ["--max-output-bytes", "262144"])
        let reader = try Client(daemon.socket)
        let before = daemon.residentKiB
        let flooder = try Client(daemon.socket)
        var smallBuffer: Int32 = 4096
        setsockopt(flooder.fd, SOL_SOCKET, SO_RCVBUF, &smallBuffer, socklen_t(MemoryLayout<Int32>.size))
        let request = Array(
            String(repeating: #"{"jsonrpc":"2.0","id":1,"method":"server.info"}"# + "\n", count: 200).utf8)
        var sentBytes = 0
        var dropped = false
        for _ in 0..<2000 {
            do {
                try flooder.send(request)
                sentBytes += request.count
            } catch {
                dropped = true
                break
            }
            if (try? reader.call("server.stats"))?["connections"]?["dropped_slow_readers"] == 1 {
                dropped = true
                break
            }
        }
        XCTAssertTrue(dropped, "the flooder was not dropped after \(sentBytes) bytes")
        XCTAssertEqual(try reader.call("server.ping"), "pong")
        XCTAssertEqual(try reader.call("server.stats")["connections"]?["dropped_slow_readers"], 1)
        let after = daemon.residentKiB
        XCTAssertLessThan(after - before, 64 * 1024, "memory stays bounded (\(before) -> \(after) KiB)")
        daemon.assertStopsCleanly()
    }

    func testAnUIDOutsideTheAllowListIsRefused() throws {
        let daemon = try Daemon(arguments: ["--allowed-uids", "\(getuid() + 1)"], waitForSocket: false)
        var refusal: JSONValue?
        let deadline = Date().addingTimeInterval(20)
        while refusal == nil && Date() < deadline {
            if let client = try? Client(daemon.socket) { refusal = try client.readMessage() } else { usleep(20_000) }
        }
        XCTAssertEqual(refusal?["error"]?["code"], .int(Int64(RPCError.Code.notPermitted)))
        XCTAssertTrue(daemon.log.contains("not in the allowed uids"))
        daemon.assertStopsCleanly()
    }
}
