import CLinux
import Foundation
import RPCServer
import Wire

/// The machine's floor for the ping benchmark: a line echo server with one epoll thread, as the
/// daemon has, that answers every line with a fixed pong and does nothing else (no JSON, no
/// dispatch). `rkllm-bench floor` runs the same client against it: the gap to the daemon is the
/// daemon's own cost; what is left is the kernel's (Unix socket I/O and wake-ups on this machine).
final class FloorServer: @unchecked Sendable {
    let socket: String
    private let listener: Int32
    private let epoll: Int32
    private var stopping = false
    private static let pong = Array(#"{"jsonrpc":"2.0","id":1,"result":"pong"}"#.utf8) + [0x0A]

    init() throws {
        let path = "/tmp/rkllm-bench-floor-\(getpid()).sock"
        unlink(path)
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = try UnixSocket.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        socket = path
        listener = fd
        guard bound == 0, listen(listener, 4096) == 0 else { throw BenchError("floor server: bind/listen failed") }
        epoll = epoll_create1(0)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = listener
        epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event)
        Thread { [self] in run() }.start()
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var buffer = [UInt8](repeating: 0, count: 65536)
        var replies: [UInt8] = []
        while !stopping {
            let n = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), 100) }
            for i in 0..<max(0, Int(n)) {
                let fd = events[i].data.fd
                if fd == listener {
                    while true {
                        let client = clinux_accept_nonblocking(listener)
                        guard client >= 0 else { break }
                        var event = epoll_event()
                        event.events = EPOLLIN.rawValue
                        event.data.fd = client
                        epoll_ctl(epoll, EPOLL_CTL_ADD, client, &event)
                    }
                    continue
                }
                let got = read(fd, &buffer, buffer.count)
                guard got > 0 else {
                    close(fd)
                    continue
                }
                replies.removeAll(keepingCapacity: true)
                for byte in buffer[0..<got] where byte == 0x0A { replies += Self.pong }
                _ = replies.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
    }

    func stop() {
        stopping = true
        usleep(200_000)
        close(listener)
        unlink(socket)
    }
}
