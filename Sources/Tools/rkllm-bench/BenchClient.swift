import BindingRuntime
import Foundation
import RPCServer
import Wire

/// A blocking JSON-RPC client of the benchmark: one request at a time, or a stream read message by
/// message with the time each read returned; descriptors sent with answers are kept.
final class BenchClient {
    private let fd: Int32
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 22, alignment: 16)
    private var pending: [UInt8] = []
    private var nextID: Int64 = 100
    /// When the last read returned (CLOCK_MONOTONIC ns).
    private(set) var lastRead: UInt64 = 0
    /// Descriptors that came with answers, oldest first.
    var receivedFDs: [Int32] = []
    /// Poll the socket instead of blocking in read: a receive time without this process's wake-up.
    var polls = false
    /// Bytes of the requests sent and of the messages read, newlines included.
    private(set) var bytesSent = 0
    private(set) var bytesReceived = 0

    init(_ socket: String) throws { fd = try connect(socket) }
    deinit {
        close(fd)
        buffer.deallocate()
    }

    func send(_ message: JSONValue) throws {
        let line = Array(message.jsonText.utf8) + [0x0A]
        try sendAll(fd, line)
        bytesSent += line.count
    }

    /// A request's result; its error thrown.
    func call(_ method: String, _ params: JSONValue) throws -> JSONValue {
        nextID += 1
        try send(["jsonrpc": "2.0", "id": .int(nextID), "method": .string(method), "params": params])
        let answer = try nextMessage()
        guard let result = answer["result"] else { throw BenchError("\(method): \(answer.jsonText)") }
        return result
    }

    func nextMessage() throws -> JSONValue {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                bytesReceived += newline + 1
                return try JSONParser.parse(line)
            }
            if polls {
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                while poll(&ready, 1, 0) == 0 {}
            }
            let n = UnixSocket.receive(fd, into: buffer, fds: &receivedFDs).count
            guard n > 0 else { throw BenchError("the daemon closed the connection") }
            lastRead = now()
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
