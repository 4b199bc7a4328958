import CLinux
import Glibc
import Wire

/// A stream socket with a bounded output queue: the one implementation of writing for every
/// client, the socket's and HTTP's. What a client is sent is queued and written at the end of the
/// loop iteration with every other client's (`flushSoon`: through the ring where it is on, then
/// each socket's own `flushQueued`), and EPOLLOUT is asked of the loop only while the socket is
/// full. Reading is the subclass's: lines (`FramedSocket`) or HTTP's bytes.
open class QueuedSocket {
    public let fd: Int32
    public final var output: OutputQueue
    /// The socket took less than was queued: the loop is asked for EPOLLOUT.
    public final private(set) var waitingForWritable = false
    /// In the server's list of sockets to write at the end of this loop iteration.
    final var flushScheduled = false

    public init(fd: Int32, maxOutputBytes: Int) {
        self.fd = fd
        output = OutputQueue(limit: maxOutputBytes)
    }

    /// Bytes queued and not written yet.
    public final var pendingOutputBytes: Int { output.pendingBytes }

    /// What is queued goes out at the end of this loop iteration, with the other clients' (not
    /// while the socket is full: EPOLLOUT will say when it drained).
    public final func flushSoon(on server: Server) {
        guard !flushScheduled, !waitingForWritable else { return }
        flushScheduled = true
        server.flushLater(self)
    }

    /// Writes what is queued. With a loop: EPOLLOUT is asked for while the socket is full, and
    /// only `readEvents` again once it has drained.
    public final func flush(loop: EventLoop?, readEvents: UInt32) -> OutputQueue.FlushResult {
        let result = output.flush(to: fd)
        guard let loop else { return result }
        switch result {
        case .done where waitingForWritable:
            waitingForWritable = false
            loop.modify(fd, events: readEvents)
        case .wouldBlock where !waitingForWritable:
            waitingForWritable = true
            loop.modify(fd, events: readEvents | EPOLLOUT.rawValue)
        default: break
        }
        return result
    }

    /// Whether the iteration's ring of sends can write this socket's queue (RingWriter): it is
    /// open, not full, and no descriptor waits to go with the bytes.
    open var ringCanWrite: Bool { !waitingForWritable && output.hasOnlyBytesWaiting }

    /// The ring's send wrote the first `n` waiting bytes; `flushQueued` writes what is left.
    open func ringWrote(_ n: Int) { output.advance(written: n) }

    /// The end of the loop iteration's writing: what the ring left, and what the subclass does
    /// once its queue drained.
    open func flushQueued() {}
}
