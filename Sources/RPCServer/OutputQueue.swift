import Glibc

/// Bytes waiting to be written to one socket: bytes appended by the loop, written with as few
/// system calls as the socket allows. Bounded: `append` reports when the bound is passed.
public struct OutputQueue {
    public let limit: Int
    private var buffer: [UInt8] = []
    private var sent = 0

    public init(limit: Int) { self.limit = limit }

    public var pendingBytes: Int { buffer.count - sent }
    public var isEmpty: Bool { pendingBytes == 0 }

    /// False when the queue would exceed its limit (the caller drops the client).
    public mutating func append(_ bytes: [UInt8]) -> Bool {
        guard pendingBytes + bytes.count <= limit else { return false }
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
        return true
    }

    /// Appends through a writer closure, then checks the bound.
    public mutating func append(_ write: (inout [UInt8]) -> Void) -> Bool {
        compactIfWorthIt()
        write(&buffer)
        return pendingBytes <= limit
    }

    public enum FlushResult { case done, wouldBlock, failed(Int32) }

    /// Writes what the socket takes.
    public mutating func flush(to fd: Int32) -> FlushResult {
        while sent < buffer.count {
            let n = buffer.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                sent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return .wouldBlock
            } else {
                return .failed(n < 0 ? errno : EPIPE)
            }
        }
        // Everything went: keep a small buffer for the next replies, give a large one back (idle
        // connections must stay small).
        buffer.removeAll(keepingCapacity: buffer.capacity <= 4096)
        sent = 0
        return .done
    }

    private mutating func compactIfWorthIt() {
        if sent > 0 && sent >= buffer.count / 2 {
            buffer.removeFirst(sent)
            sent = 0
        }
    }
}
