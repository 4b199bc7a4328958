import BindingRuntime
import CLinux
import Foundation
import Wire
import XCTest

@testable import RPCServer

/// A Server run on a thread of this process with methods of the test's own, and a client's
/// side of its socket.
final class InProcessServer {
    let server: Server
    let socket: String
    private let stopped = DispatchSemaphore(value: 0)

    init(_ name: String, methods: [ServerMethod], configure: (inout Configuration) -> Void = { _ in }) throws {
        socket = "/tmp/rkllm-\(name)-\(getpid()).sock"
        var configuration = Configuration()
        configuration.socketPath = socket
        configuration.logLevel = .error
        configure(&configuration)
        let server = try Server(
            configuration: configuration, logger: Logger(level: .error), version: "test", methods: methods)
        self.server = server
        let stopped = self.stopped
        Thread {
            _ = try? server.run()
            stopped.signal()
        }.start()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(5_000) }
    }

    /// `test.fd_echo`: takes the descriptor sent with the request and answers with a duplicate of it.
    static let descriptorEcho = ServerMethod(
        name: "test.fd_echo", description: ["name": "test.fd_echo"], fileDescriptors: 1
    ) { call in
        guard let fd = call.takeFileDescriptor() else {
            return call.respond(.failure(RPCError.invalidParams("fd", "none sent")))
        }
        let copy = dup(fd)
        close(fd)
        call.respond(.success(["echoed": true]), fds: [copy])
    }

    func stop() {
        server.requestShutdown(reason: "test over")
        XCTAssertEqual(stopped.wait(timeout: .now() + 60), .success)
    }

    func connect() throws -> Int32 { try UnixSocket.connect(socket) }

    static func send(_ fd: Int32, _ line: String) {
        let bytes = Array(line.utf8) + [0x0A]
        XCTAssertEqual(bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }, bytes.count)
    }

    /// The next `count` lines from `fd`, read whole however long they are, and not a byte more
    /// (what follows stays in the socket for the next read).
    static func lines(_ fd: Int32, _ count: Int) throws -> [JSONValue] {
        var lines: [JSONValue] = []
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while lines.count < count {
            let peeked = recv(fd, &chunk, chunk.count, Int32(MSG_PEEK))
            guard peeked > 0 else { throw POSIXError(.ECONNRESET) }
            let take = chunk[0..<peeked].firstIndex(of: 0x0A).map { $0 + 1 } ?? peeked
            guard read(fd, &chunk, take) == take else { throw POSIXError(.EIO) }
            line += chunk[0..<take]
            if line.last == 0x0A {
                lines.append(try JSONParser.parse(Array(line.dropLast())))
                line = []
            }
        }
        return lines
    }

    /// Sends `line` with `descriptor` beside it (SCM_RIGHTS).
    static func send(_ fd: Int32, _ line: String, with descriptor: Int32) {
        let bytes = Array(line.utf8) + [0x0A]
        var descriptors = [descriptor]
        let sent = bytes.withUnsafeBytes { clinux_send_with_fds(fd, $0.baseAddress, $0.count, &descriptors, 1) }
        XCTAssertEqual(sent, bytes.count)
    }

    /// One reply line (read in one receive) and the descriptors that came with it.
    static func receive(_ fd: Int32) -> (JSONValue?, [Int32]) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var fds: [Int32] = []
        let n = buffer.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0, fds: &fds).count }
        guard n > 0, let newline = buffer[0..<n].firstIndex(of: 0x0A) else { return (nil, fds) }
        return (try? JSONParser.parse(Array(buffer[0..<newline])), fds)
    }

    /// Whether two descriptors open the same file.
    static func sameFile(_ a: Int32, _ b: Int32) -> Bool {
        var first = stat()
        var second = stat()
        return fstat(a, &first) == 0 && fstat(b, &second) == 0 && first.st_ino == second.st_ino
            && first.st_dev == second.st_dev
    }

    /// Nothing more than what was read came on `fd`: the next reply is that of a new request.
    static func assertNothingMore(_ fd: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
        send(fd, #"{"jsonrpc":"2.0","id":"next","method":"server.ping"}"#)
        XCTAssertEqual(try lines(fd, 1)[0]["id"], "next", file: file, line: line)
    }

    /// A call on a connection of its own: its reply.
    func call(_ method: String) throws -> JSONValue {
        let fd = try connect()
        defer { close(fd) }
        Self.send(fd, #"{"jsonrpc":"2.0","id":0,"method":"\#(method)"}"#)
        return try Self.lines(fd, 1)[0]
    }
}
