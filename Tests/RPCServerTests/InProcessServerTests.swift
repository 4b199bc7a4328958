import BindingRuntime
import CLinux
import Foundation
import XCTest

@testable import RPCServer

/// A Server run in this process with methods of the test's own: descriptors both ways, and
/// answers from other threads.
final class InProcessServerTests: XCTestCase {
    private var harness: InProcessServer!

    override func setUpWithError() throws {
        harness = try InProcessServer(
            "inprocess",
            methods: [
                InProcessServer.descriptorEcho,
                // Answers from another thread after a stream message, like a runtime callback.
                ServerMethod(name: "test.later", description: ["name": "test.later"]) { call in
                    Thread {
                        call.emit(["partial": 1])
                        usleep(10_000)
                        call.respond(.success("done"))
                        call.respond(.success("ignored: answered twice"))
                    }.start()
                },
            ])
    }

    override func tearDown() {
        harness.stop()
        harness = nil
    }

    private func connect() throws -> Int32 { try harness.connect() }

    func testDescriptorsTravelWithRequestsAndReplies() throws {
        let client = try connect()
        defer { close(client) }
        let memory = memfd_create("echo", 0)
        let line = #"{"jsonrpc":"2.0","id":1,"method":"test.fd_echo"}"#
        InProcessServer.send(client, line, with: memory)
        let (reply, fds) = InProcessServer.receive(client)
        XCTAssertEqual(reply?["result"], ["echoed": true])
        XCTAssertEqual(fds.count, 1)
        XCTAssertTrue(InProcessServer.sameFile(memory, fds.first ?? -1), "the same file came back")
        fds.forEach { close($0) }
        close(memory)
        // No descriptor sent: the method's own error.
        InProcessServer.send(client, line)
        XCTAssertEqual(InProcessServer.receive(client).0?["error"]?["code"], -32602)
    }

    func testStreamThenOneAnswerFromAnotherThread() throws {
        let client = try connect()
        defer { close(client) }
        InProcessServer.send(client, #"{"jsonrpc":"2.0","id":"x","method":"test.later"}"#)
        let lines = try InProcessServer.lines(client, 2)
        XCTAssertEqual(lines.map { $0["result"] }, [["partial": 1], "done"])
        XCTAssertEqual(lines.map { $0["id"] }, ["x", "x"])
        // The second answer was ignored: the next reply is the ping's.
        InProcessServer.send(client, #"{"jsonrpc":"2.0","id":2,"method":"server.ping"}"#)
        XCTAssertEqual(InProcessServer.receive(client).0?["id"], 2)
    }
}
