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
                // Takes the descriptor sent with the request and answers with a duplicate of it.
                ServerMethod(name: "test.fd_echo", description: ["name": "test.fd_echo"], fileDescriptors: 1) { call in
                    guard let fd = call.takeFileDescriptor() else {
                        return call.respond(.failure(RPCError.invalidParams("fd", "none sent")))
                    }
                    let copy = dup(fd)
                    close(fd)
                    call.respond(.success(["echoed": true]), fds: [copy])
                },
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

    /// One reply line and the descriptors that came with it.
    private func receive(_ fd: Int32) -> (JSONValue?, [Int32]) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var fds: [Int32] = []
        let n = buffer.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0, fds: &fds).count }
        guard n > 0, let newline = buffer[0..<n].firstIndex(of: 0x0A) else { return (nil, fds) }
        return (try? JSONParser.parse(Array(buffer[0..<newline])), fds)
    }

    func testDescriptorsTravelWithRequestsAndReplies() throws {
        let client = try connect()
        defer { close(client) }
        let memory = memfd_create("echo", 0)
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"test.fd_echo"}"#.utf8) + [0x0A]
        var descriptors = [memory]
        XCTAssertEqual(
            line.withUnsafeBytes { clinux_send_with_fds(client, $0.baseAddress, $0.count, &descriptors, 1) }, line.count
        )
        let (reply, fds) = receive(client)
        XCTAssertEqual(reply?["result"], ["echoed": true])
        XCTAssertEqual(fds.count, 1)
        var a = stat()
        var b = stat()
        fstat(memory, &a)
        fstat(fds.first ?? -1, &b)
        XCTAssertEqual(a.st_ino, b.st_ino, "the same file came back")
        fds.forEach { close($0) }
        close(memory)
        // No descriptor sent: the method's own error.
        XCTAssertEqual(line.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, 0) }, line.count)
        XCTAssertEqual(receive(client).0?["error"]?["code"], -32602)
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
        XCTAssertEqual(receive(client).0?["id"], 2)
    }
}
