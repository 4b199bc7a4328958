import BindingRuntime
import CLinux
import Foundation
import XCTest

@testable import RPCServer

/// An event-loop iteration's replies to many clients in one system call (RingWriter): which
/// replies the ring writes, what happens to what a send leaves, and the same replies with io_uring
/// off. The test holds the loop in a method of its own while its clients write, so their requests
/// are read, and answered, in one iteration.
final class RingWriterTests: XCTestCase {
    private let entered = DispatchSemaphore(value: 0)
    private let release = DispatchSemaphore(value: 0)

    private func start(ioUring: Bool = true) throws -> InProcessServer {
        let (entered, release) = (self.entered, self.release)
        return try InProcessServer(
            "ring",
            methods: [
                // Holds the loop thread until the test releases it.
                ServerMethod(name: "test.hold", description: ["name": "test.hold"]) { call in
                    entered.signal()
                    release.wait()
                    call.respond(.success("released"))
                },
                InProcessServer.descriptorEcho,
                // A reply of `bytes` bytes of text, more than a socket takes at once.
                ServerMethod(name: "test.text", description: ["name": "test.text"]) { call in
                    guard case .int(let bytes)? = call.params?["bytes"] else {
                        return call.respond(.failure(RPCError.invalidParams("bytes", "an integer")))
                    }
                    call.respond(.success(.string(String(repeating: "x", count: Int(bytes)))))
                },
            ],
            configure: { $0.ioUring = ioUring })
    }

    /// `write` runs while the loop is held; what the clients wrote meanwhile is read in the
    /// iteration after the hold's.
    private func holdingTheLoop(_ server: InProcessServer, _ write: () throws -> Void) throws {
        let holder = try server.connect()
        defer { close(holder) }
        InProcessServer.send(holder, #"{"jsonrpc":"2.0","id":"hold","method":"test.hold"}"#)
        XCTAssertEqual(entered.wait(timeout: .now() + 60), .success)
        try write()
        release.signal()
        XCTAssertEqual(try InProcessServer.lines(holder, 1)[0]["result"], "released")
    }

    /// Clients the server has accepted (a round trip each), so none is accepted during the iteration.
    private func clients(_ count: Int, of server: InProcessServer) throws -> [Int32] {
        try (0..<count).map { _ in
            let fd = try server.connect()
            InProcessServer.send(fd, #"{"jsonrpc":"2.0","id":0,"method":"server.ping"}"#)
            _ = try InProcessServer.lines(fd, 1)
            return fd
        }
    }

    private struct Writes: Equatable {
        var ioUring: JSONValue?
        var sends: Int64
        var systemCalls: Int64
    }

    private func writes(_ server: InProcessServer) throws -> Writes {
        let writes = try server.call("server.stats")["result"]?["writes"]
        guard case .int(let sends)? = writes?["ring_sends"], case .int(let calls)? = writes?["ring_system_calls"]
        else { throw POSIXError(.EBADMSG) }
        return Writes(ioUring: writes?["io_uring"], sends: sends, systemCalls: calls)
    }

    private func ringServer() throws -> InProcessServer {
        let server = try start()
        let state = try writes(server).ioUring
        if state != "on" { server.stop() }
        try XCTSkipUnless(state == "on", "no io_uring on this kernel: \(state ?? "?")")
        return server
    }

    func testOneIterationsRepliesToManyClientsLeaveInOneSystemCall() throws {
        let server = try ringServer()
        defer { server.stop() }
        let clients = try clients(20, of: server)
        defer { clients.forEach { close($0) } }
        let before = try writes(server)
        try holdingTheLoop(server) {
            for (index, fd) in clients.enumerated() {
                InProcessServer.send(fd, #"{"jsonrpc":"2.0","id":\#(index),"method":"server.ping"}"#)
            }
        }
        for (index, fd) in clients.enumerated() {
            let reply = try InProcessServer.lines(fd, 1)[0]
            XCTAssertEqual(reply["id"], .int(Int64(index)))
            XCTAssertEqual(reply["result"], "pong")
            try InProcessServer.assertNothingMore(fd)
        }
        let after = try writes(server)
        XCTAssertEqual(after.sends - before.sends, 20)
        XCTAssertEqual(after.systemCalls - before.systemCalls, 1)
    }

    func testWhatAFullSocketLeftOfARingSendFollowsWhenTheClientReads() throws {
        let server = try ringServer()
        defer { server.stop() }
        let clients = try clients(3, of: server)
        defer { clients.forEach { close($0) } }
        let bytes = 3 << 20  // far beyond a Unix socket's buffer
        let before = try writes(server)
        try holdingTheLoop(server) {
            for (index, fd) in clients.enumerated() {
                InProcessServer.send(
                    fd, #"{"jsonrpc":"2.0","id":\#(index),"method":"test.text","params":{"bytes":\#(bytes)}}"#)
            }
        }
        for (index, fd) in clients.enumerated() {
            let reply = try InProcessServer.lines(fd, 1)[0]
            XCTAssertEqual(reply["id"], .int(Int64(index)))
            guard case .string(let text)? = reply["result"] else { return XCTFail("no text: \(reply)") }
            XCTAssertEqual(text.utf8.count, bytes)
            XCTAssert(text.utf8.allSatisfy { $0 == UInt8(ascii: "x") })
            try InProcessServer.assertNothingMore(fd)
        }
        XCTAssertEqual(try writes(server).sends - before.sends, 3)
    }

    func testAReplyWithDescriptorsIsLeftToItsConnectionsFlush() throws {
        let server = try ringServer()
        defer { server.stop() }
        let clients = try clients(5, of: server)
        defer { clients.forEach { close($0) } }
        let memory = memfd_create("ring", 0)
        defer { close(memory) }
        let before = try writes(server)
        try holdingTheLoop(server) {
            InProcessServer.send(clients[0], #"{"jsonrpc":"2.0","id":"fd","method":"test.fd_echo"}"#, with: memory)
            for fd in clients.dropFirst() {
                InProcessServer.send(fd, #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#)
            }
        }
        let (reply, fds) = InProcessServer.receive(clients[0])
        XCTAssertEqual(reply?["result"], ["echoed": true])
        XCTAssertEqual(fds.count, 1, "the descriptor came with its reply")
        XCTAssertTrue(InProcessServer.sameFile(memory, fds.first ?? -1))
        fds.forEach { close($0) }
        for fd in clients.dropFirst() {
            XCTAssertEqual(try InProcessServer.lines(fd, 1)[0]["result"], "pong")
            try InProcessServer.assertNothingMore(fd)
        }
        XCTAssertEqual(try writes(server).sends - before.sends, 4)
    }

    func testAClientGoneBeforeItsRingSendIsClosedAndTheOthersAreAnswered() throws {
        let server = try ringServer()
        defer { server.stop() }
        let clients = try clients(4, of: server)
        defer { clients.dropFirst().forEach { close($0) } }
        try holdingTheLoop(server) {
            for fd in clients { InProcessServer.send(fd, #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#) }
            close(clients[0])
        }
        for fd in clients.dropFirst() { XCTAssertEqual(try InProcessServer.lines(fd, 1)[0]["result"], "pong") }
        // The gone client's connection is closed: only the stats call's own is open.
        let open = try server.call("server.stats")["result"]?["connections"]?["open"]
        XCTAssertEqual(open, .int(Int64(clients.count)))
    }

    func testWithIOUringOffEveryReplyGoesByItself() throws {
        let server = try start(ioUring: false)
        defer { server.stop() }
        let clients = try clients(10, of: server)
        defer { clients.forEach { close($0) } }
        try holdingTheLoop(server) {
            for (index, fd) in clients.enumerated() {
                InProcessServer.send(fd, #"{"jsonrpc":"2.0","id":\#(index),"method":"server.ping"}"#)
            }
        }
        for (index, fd) in clients.enumerated() {
            XCTAssertEqual(try InProcessServer.lines(fd, 1)[0]["id"], .int(Int64(index)))
            try InProcessServer.assertNothingMore(fd)
        }
        XCTAssertEqual(try writes(server), Writes(ioUring: "off", sends: 0, systemCalls: 0))
    }
}
