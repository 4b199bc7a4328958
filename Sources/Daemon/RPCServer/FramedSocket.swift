import CLinux
import Glibc
import Wire

/// A stream socket carrying newline-framed messages with descriptors beside them (SCM_RIGHTS):
/// the one implementation of reading them (recvmsg, then line framing), over `QueuedSocket`'s
/// writing. Client connections and both ends of a runtime host's channel are framed sockets; on a
/// blocking socket (the host's end, the start-up probe) `wouldBlock` simply never happens.
open class FramedSocket: QueuedSocket {
    public final var framer: LineFramer

    public init(fd: Int32, maxLineBytes: Int, maxOutputBytes: Int) {
        framer = LineFramer(maxLineBytes: maxLineBytes)
        super.init(fd: fd, maxOutputBytes: maxOutputBytes)
    }

    public enum ReadOutcome: Equatable {
        /// This many bytes were read and framed; `filled`: the buffer was full (more may wait).
        case bytes(Int, filled: Bool)
        case wouldBlock
        /// The peer closed its sending side.
        case end
        case failed(Int32)
    }

    /// One recvmsg into `buffer` (retried on EINTR). The descriptors that came with the bytes go to
    /// `descriptors` (with whether some were lost: more than CLINUX_MAX_FDS) before the lines the
    /// bytes complete go to `handle`.
    public final func read(
        into buffer: UnsafeMutableRawBufferPointer, descriptors: ([Int32], Bool) -> Void,
        lines handle: (LineFramer.Event) -> Void
    ) -> ReadOutcome {
        while true {
            var fds: [Int32] = []
            let (n, lost) = UnixSocket.receive(fd, into: buffer, fds: &fds)
            if !fds.isEmpty || lost { descriptors(fds, lost) }
            if n > 0 {
                framer.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), handle)
                return .bytes(n, filled: n == buffer.count)
            }
            if n == 0 { return .end }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(errno)
        }
    }
}
