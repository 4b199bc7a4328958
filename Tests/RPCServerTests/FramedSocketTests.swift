import CLinux
import Foundation
import Wire
import XCTest

@testable import RPCServer

/// The one socket type of the daemon's connections and runtime host channels: reads frame lines
/// and hand over descriptors first; writes ask for EPOLLOUT only while the socket is full.
final class FramedSocketTests: XCTestCase {
    private func pair(nonBlocking: Bool) throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SystemError("socketpair") }
        return (fds[0], fds[1])
    }

    private final class Ignore: EventHandler {
        func handleEvents(_ events: UInt32) {}
    }

    func testDescriptorsAreHandedOverBeforeTheLinesTheyCameWith() throws {
        let (mine, theirs) = try pair(nonBlocking: true)
        defer { close(theirs) }
        let socket = FramedSocket(fd: mine, maxLineBytes: 64, maxOutputBytes: 64)
        defer { close(mine) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { buffer.deallocate() }
        var seen: [String] = []
        func read() -> FramedSocket.ReadOutcome {
            socket.read(
                into: buffer,
                descriptors: { fds, lost in
                    seen.append("fds \(fds.count) lost \(lost)")
                    fds.forEach { close($0) }
                },
                lines: { event in
                    if case .line(let line) = event { seen.append(String(decoding: line, as: UTF8.self)) }
                })
        }
        XCTAssertEqual(read(), .wouldBlock)
        let text = Array("one\ntwo\r\nthr".utf8)
        let passed = [dup(0)]
        XCTAssertEqual(clinux_send_with_fds(theirs, text, text.count, passed, 1), text.count)
        close(passed[0])
        XCTAssertEqual(read(), .bytes(text.count, filled: false))
        XCTAssertEqual(seen, ["fds 1 lost false", "one", "two"])
        XCTAssertEqual(socket.framer.bufferedBytes, 3, "the incomplete line waits for the rest")
        shutdown(theirs, Int32(SHUT_WR))
        XCTAssertEqual(read(), .end)
    }

    func testAFullSocketAsksTheLoopForWritableUntilItDrains() throws {
        let (mine, theirs) = try pair(nonBlocking: true)
        let loop = try EventLoop()
        let handler = Ignore()
        try loop.register(mine, events: EPOLLIN.rawValue, handler: handler)
        let socket = FramedSocket(fd: mine, maxLineBytes: 64, maxOutputBytes: 8 << 20)
        let message = [UInt8](repeating: 0x61, count: 4 << 20)
        XCTAssertEqual(socket.output.append { $0 += message }, .queued)
        XCTAssertEqual(socket.flush(loop: loop, readEvents: EPOLLIN.rawValue), .wouldBlock)
        XCTAssertTrue(socket.waitingForWritable)
        // The peer reads everything; the socket keeps writing until all is out.
        let reader = Thread {
            var total = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            var ready = pollfd(fd: theirs, events: Int16(POLLIN), revents: 0)
            while total < message.count, poll(&ready, 1, -1) > 0 {
                let n = Glibc.read(theirs, &chunk, chunk.count)
                if n > 0 { total += n }
            }
            close(theirs)
        }
        reader.start()
        var result = socket.flush(loop: loop, readEvents: EPOLLIN.rawValue)
        while result == .wouldBlock {
            var writable = pollfd(fd: mine, events: Int16(POLLOUT), revents: 0)
            _ = poll(&writable, 1, -1)
            result = socket.flush(loop: loop, readEvents: EPOLLIN.rawValue)
        }
        XCTAssertEqual(result, .done)
        XCTAssertFalse(socket.waitingForWritable)
        XCTAssertEqual(socket.output.bytesWritten, message.count)
        loop.unregister(mine)
        close(mine)
    }
}
