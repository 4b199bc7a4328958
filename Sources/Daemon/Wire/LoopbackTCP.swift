import CLinux
import Foundation

/// A client's TCP connection to a port on 127.0.0.1 (the HTTP front's tests, benchmark and fuzzer):
/// blocking, with Nagle off so a request leaves at once.
public enum LoopbackTCP {
    public static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = SystemError("connect 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// The loopback port a daemon's log says its HTTP front bound (`HTTP on 127.0.0.1:PORT`, the
    /// front's line at start), if the log has that line yet.
    public static func httpPort(inLog log: String) -> UInt16? {
        guard let range = log.range(of: #"HTTP on 127\.0\.0\.1:\d+"#, options: .regularExpression) else { return nil }
        return UInt16(log[range].split(separator: ":").last ?? "")
    }
}
