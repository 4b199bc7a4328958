import BindingRuntime
import CLinux
import Foundation
import XCTest

/// Per-client quotas (handles, descriptors kept open in runtime hosts, bytes held there): a client
/// that fills its own, even with many calls at once, is refused with -32011 naming the quota, and a
/// bystander loses nothing; what it held comes back when it lets go or leaves.
final class QuotaTests: XCTestCase {
    func testHandlesDescriptorsAndBytesPerClientAreBoundedAndComeBack() throws {
        let daemon = try Bystander.daemon(arguments: [
            "--max-descriptors-per-client", "6", "--max-bytes-per-client", "65536",
        ])
        let bystander = try Bystander(daemon)
        let before = Set(try runtimeHostPIDs(with: ["rknn", String(daemon.process.processIdentifier)]))
        let attacker = try Client(daemon.socket)
        let context = try XCTUnwrap(try attacker.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        let attackerHost = try XCTUnwrap(
            Set(try runtimeHostPIDs(with: ["rknn", String(daemon.process.processIdentifier)])).subtracting(before)
                .first,
            "each client's contexts in a host of its own")
        // Twenty at once: the calls under way count, not only the answered ones.
        let answers = try pipelined(attacker, (0..<20).map { _ in ("rknn.create_mem", [context, 1024]) })
        let made = answers.compactMap { $0["result"]?["return"] }
        XCTAssertEqual(made.count, 5, "six descriptors: the context's (at least one per object) and five memories")
        for refused in answers where refused["error"] != nil {
            XCTAssertEqual(refused["error"]?["code"], .int(Int64(RPCError.Code.limitExceeded)))
            XCTAssertEqual(refused["error"]?["data"]?["limit"], "max_descriptors_per_client")
        }
        attacker.receivedFDs.forEach { Glibc.close($0) }
        attacker.receivedFDs = []
        // Letting go of one gives its descriptor back; bytes are a quota of their own.
        XCTAssertEqual(try attacker.call("rknn.destroy_mem", [context, made[0]]), .object([:]))
        let tooLarge = try attacker.request("rknn.create_mem", [context, 65536])
        XCTAssertEqual(tooLarge["error"]?["data"]?["limit"], "max_bytes_per_client")
        XCTAssertNotNil(
            try attacker.request("rknn.create_mem", [context, 1024])["result"], "the freed descriptor is usable again")
        attacker.receivedFDs.forEach { Glibc.close($0) }
        attacker.receivedFDs = []
        XCTAssertEqual(
            try attacker.request("rknn.init", [["path": "demo-float.rknn"], 0])["error"]?["data"]?["limit"],
            "max_descriptors_per_client")
        // The bystander is not limited by the attacker's holdings.
        let theirs = try XCTUnwrap(try bystander.client.call("rknn.create_mem", [bystander.context, 4096])["return"])
        XCTAssertEqual(try bystander.client.call("rknn.destroy_mem", [bystander.context, theirs]), .object([:]))
        bystander.client.receivedFDs.forEach { Glibc.close($0) }
        bystander.client.receivedFDs = []
        // The attacker's leaving gives everything back, its host included.
        attacker.hangUp()
        let deadline = Date().addingTimeInterval(60)
        while kill(attackerHost, 0) == 0 && Date() < deadline { usleep(20_000) }
        XCTAssertNotEqual(kill(attackerHost, 0), 0)
        try bystander.assertUnharmed()
        let again = try Client(daemon.socket)
        let fresh = try XCTUnwrap(try again.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        let full = try pipelined(again, (0..<5).map { _ in ("rknn.create_mem", [fresh, 1024]) })
        XCTAssertEqual(full.filter { $0["result"] != nil }.count, 5, "a new client starts with its whole quota")
        again.receivedFDs.forEach { Glibc.close($0) }
        daemon.assertStopsCleanly()
    }

    func testHandlesPerClientAreBoundedWhateverIsUnderWay() throws {
        let daemon = try Daemon(
            arguments: ["--max-handles-per-client", "8"],
            environment: ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        let answers = try pipelined(client, (0..<20).map { _ in ("rknn.create_mem", [context, 64]) })
        XCTAssertEqual(answers.filter { $0["result"] != nil }.count, 7)
        XCTAssertEqual(answers.filter { $0["error"]?["data"]?["limit"] == "max_handles_per_client" }.count, 13)
        client.receivedFDs.forEach { Glibc.close($0) }
        XCTAssertEqual(
            try Client(daemon.socket).call("rknn.init", [["path": "demo-float.rknn"], 0])["context"] != nil, true,
            "others are not limited")
        daemon.assertStopsCleanly()
    }

    /// Sends every call before reading any answer; the answers in request order.
    private func pipelined(_ client: Client, _ calls: [(String, JSONValue)]) throws -> [JSONValue] {
        var lines = ""
        for (i, call) in calls.enumerated() {
            let request: JSONValue = [
                "jsonrpc": "2.0", "id": .int(Int64(i)), "method": .string(call.0), "params": call.1,
            ]
            lines += request.jsonText + "\n"
        }
        try client.send(lines)
        var answers = [JSONValue](repeating: .null, count: calls.count)
        for _ in calls {
            let answer = try client.readMessage()
            guard case .int(let id)? = answer["id"], answers.indices.contains(Int(id)) else {
                throw Failure("unexpected \(answer)")
            }
            answers[Int(id)] = answer
        }
        return answers
    }
}
