import CLinux
import Glibc

/// An event-loop iteration's replies to many clients written with one system call: every queue
/// with bytes waiting (and no descriptor to pass) becomes a send that never waits, and the sends go
/// to the kernel together through an io_uring. One `send` per client would each wake that client
/// while the loop still has the others to write; the ring's sends are all made before any of them
/// runs (measured in docs/PERFORMANCE.md). What a send leaves (a full socket, an error) and replies
/// with descriptors are for the connection's own flush, which finds the socket as the ring left it.
///
/// Loop thread only: the ring is opened by, and belongs to, the thread that runs the loop.
final class RingWriter {
    private let ring: UnsafeMutablePointer<clinux_ring>
    /// The most sends per system call: more connections take several.
    let capacity: Int
    /// Each connection's outcome (bytes sent, or -errno), by its place among those submitted.
    private var results: [Int32] = []
    private(set) var sends = 0
    private(set) var systemCalls = 0

    /// Fails with errno where the kernel has no io_uring, or has it turned off.
    init(capacity: Int = 256) throws(Errno) {
        guard let ring = clinux_ring_create(UInt32(capacity)) else { throw Errno(errno) }
        self.ring = ring
        self.capacity = Int(clinux_ring_room(ring))
    }

    deinit { clinux_ring_destroy(ring) }

    struct Errno: Error, CustomStringConvertible {
        let code: Int32
        init(_ code: Int32) { self.code = code }
        var description: String { String(cString: strerror(code)) }
    }

    /// Writes what each of `connections` can send now, `capacity` of them per system call.
    func write(_ connections: [QueuedSocket]) {
        var start = 0
        while start < connections.count {
            let end = min(connections.count, start + capacity)
            write(connections, start..<end)
            start = end
        }
    }

    private func write(_ connections: [QueuedSocket], _ range: Range<Int>) {
        results.removeAll(keepingCapacity: true)
        results.append(contentsOf: repeatElement(0, count: range.count))
        lend(connections, from: range.lowerBound, range)
        for index in range where results[index - range.lowerBound] > 0 {
            connections[index].ringWrote(Int(results[index - range.lowerBound]))
        }
    }

    /// Prepares a send of each connection's waiting bytes. The kernel reads them during the
    /// submission, so each queue's bytes stay lent (its closure open) until every send has
    /// completed: one level of recursion per connection, at most `capacity` deep.
    private func lend(_ connections: [QueuedSocket], from index: Int, _ range: Range<Int>) {
        guard index < range.upperBound else { return submit() }
        let connection = connections[index]
        guard connection.ringCanWrite else { return lend(connections, from: index + 1, range) }
        connection.output.withWaitingBytes { bytes in
            clinux_ring_send(ring, connection.fd, bytes.baseAddress, bytes.count, UInt64(index - range.lowerBound))
            lend(connections, from: index + 1, range)
        }
    }

    /// Submits the prepared sends and takes every completion, so no buffer stays with the kernel.
    /// A send the kernel did not take leaves its connection's bytes as they were.
    private func submit() {
        let taken = Int(clinux_ring_submit(ring))
        systemCalls += 1
        guard taken > 0 else { return }
        sends += taken
        var completed = 0
        var tag: UInt64 = 0
        var result: Int32 = 0
        while true {
            while clinux_ring_next(ring, &tag, &result) != 0 {
                results[Int(tag)] = result
                completed += 1
            }
            guard completed < taken else { return }
            // Not reached with sends that never wait; if it were, the bytes must stay lent until
            // the kernel is done with them.
            systemCalls += 1
            if clinux_ring_wait(ring, UInt32(taken - completed)) != 0 && errno != EAGAIN && errno != EBUSY {
                fatalError("io_uring wait failed: \(String(cString: strerror(errno)))")
            }
        }
    }
}
