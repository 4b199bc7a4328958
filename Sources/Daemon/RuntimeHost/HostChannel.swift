import BindingRuntime
import Foundation
import RPCServer

/// The host's end of the socketpair, blocking: lines read on the main thread, whole messages
/// written from any thread under a lock.
final class HostChannel: FramedSocket, @unchecked Sendable {
    private let lock = NSLock()
    /// Descriptors received, oldest first (read on the main thread only).
    private var receivedFDs: [Int32] = []
    private let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)

    /// The daemon's lines (calls can carry whole tensors): bounded only to keep the framer's sum sane.
    init(fd: Int32) { super.init(fd: fd, maxLineBytes: 1 << 30, maxOutputBytes: Int.max) }
    deinit { chunk.deallocate() }

    /// Hands each message the daemon sends to `handle` until the daemon closes the channel.
    func receive(_ handle: (HostMessage) -> Void) {
        while true {
            let outcome = read(
                into: chunk, descriptors: { fds, _ in receivedFDs += fds },
                lines: { event in
                    if case .line(let line) = event, let message = HostMessage.read(line) { handle(message) }
                })
            guard case .bytes = outcome else { return }
        }
    }

    /// The next `count` descriptors received (fewer if fewer came).
    func takeFileDescriptors(_ count: Int) -> [Int32] {
        let taken = Array(receivedFDs.prefix(count))
        receivedFDs.removeFirst(taken.count)
        return taken
    }

    /// One message; `fds` go with its first byte and are closed here once sent.
    func send(_ message: HostMessage, fds: [Int32] = []) {
        let sent = lock.withLock {
            _ = output.append(fds: fds) { message.write(into: &$0) }
            return flush(loop: nil, readEvents: 0)
        }
        if case .failed = sent { exit(0) }  // the daemon is gone
    }
}
