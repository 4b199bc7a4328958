import CLinux
import Glibc

/// Bytes waiting to be written to one socket: appended by the loop, written with as few system
/// calls as the socket allows. File descriptors can ride with a message (SCM_RIGHTS, attached to
/// its first byte); the queue owns them until they are sent, then closes its copies. Bounded:
/// `append` refuses a message larger than the bound and reports when unread bytes pass it.
public struct OutputQueue {
    public let limit: Int
    private var buffer: [UInt8] = []
    private var sent = 0
    /// Descriptors to send with the byte at `offset` (an index into `buffer`), in order.
    private var attachments: [(offset: Int, fds: [Int32])] = []

    public init(limit: Int) { self.limit = limit }

    public var pendingBytes: Int { buffer.count - sent }
    /// Bytes written to the socket so far (the daemon's traffic counters).
    public private(set) var bytesWritten = 0
    public var isEmpty: Bool { pendingBytes == 0 }

    public enum Appended: Equatable {
        case queued
        /// The message alone is larger than the limit: not queued (its descriptors closed).
        case tooLarge(bytes: Int)
        /// Queued, and the bytes not yet written now exceed the limit: the client is not reading.
        case full
    }

    /// Appends one message written by `write`.
    public mutating func append(_ write: (inout [UInt8]) -> Void) -> Appended {
        compactIfWorthIt()
        let start = buffer.count
        write(&buffer)
        let size = buffer.count - start
        guard size <= limit else {
            buffer.removeSubrange(start...)
            return .tooLarge(bytes: size)
        }
        return pendingBytes <= limit ? .queued : .full
    }

    /// Appends one message written by `write`; `fds` go with its first byte.
    public mutating func append(fds: [Int32], _ write: (inout [UInt8]) -> Void) -> Appended {
        guard !fds.isEmpty else { return append(write) }
        var start = 0
        let appended = append {
            start = $0.count
            write(&$0)
        }
        if case .tooLarge = appended {
            fds.forEach { close($0) }
            return appended
        }
        // At most CLINUX_MAX_FDS per sendmsg: a longer list rides on consecutive bytes.
        var offset = start
        var rest = fds[...]
        while !rest.isEmpty {
            attachments.append((offset, Array(rest.prefix(Int(CLINUX_MAX_FDS)))))
            rest = rest.dropFirst(Int(CLINUX_MAX_FDS))
            offset += 1
        }
        return appended
    }

    public enum FlushResult: Equatable {
        case done, wouldBlock
        case failed(Int32)
    }

    /// Writes what the socket takes.
    public mutating func flush(to fd: Int32) -> FlushResult {
        while sent < buffer.count {
            var end = buffer.count
            var fds: [Int32] = []
            if let next = attachments.first {
                if next.offset == sent { fds = next.fds } else { end = next.offset }
                if fds.count > 0, attachments.count > 1 { end = min(end, attachments[1].offset) }
            }
            let n = buffer.withUnsafeBytes { raw in
                fds.withUnsafeBufferPointer { list in
                    clinux_send_with_fds(fd, raw.baseAddress! + sent, end - sent, list.baseAddress, Int32(list.count))
                }
            }
            if n > 0 {
                if !fds.isEmpty {
                    // They went with the first byte: our copies are no longer needed.
                    for descriptor in attachments.removeFirst().fds { close(descriptor) }
                }
                advance(written: n)
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

    /// Whether bytes wait and no descriptor waits with them: what a plain send can write.
    var hasOnlyBytesWaiting: Bool { sent < buffer.count && attachments.isEmpty }

    /// Lends the bytes not yet written to `body` (while `hasOnlyBytesWaiting`: they carry no
    /// descriptor), for a send made elsewhere (RingWriter).
    func withWaitingBytes(_ body: (UnsafeRawBufferPointer) -> Void) {
        buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[sent...])) }
    }

    /// The first `n` waiting bytes were written (by `flush`, or by a send made elsewhere).
    mutating func advance(written n: Int) {
        sent += n
        bytesWritten += n
    }

    /// Closes descriptors that were never sent (the peer is gone).
    public mutating func discard() {
        for attachment in attachments { attachment.fds.forEach { close($0) } }
        attachments = []
        buffer = []
        sent = 0
    }

    private mutating func compactIfWorthIt() {
        if sent > 0 && sent >= buffer.count / 2 {
            buffer.removeFirst(sent)
            attachments = attachments.map { ($0.offset - sent, $0.fds) }
            sent = 0
        }
    }
}
