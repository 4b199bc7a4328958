import CLinux
import Glibc
import RPCServer
import Wire

/// A listening TCP socket on `HOST:PORT` (IPv4, or `[IPv6]:PORT`; a port alone is loopback's),
/// non-blocking.
struct TCPListener {
    let fd: Int32
    /// The address as bound (the port the kernel chose for port 0).
    let address: String
    /// Bound to an address other hosts may reach (not 127.0.0.0/8, ::1 or localhost).
    let reachableFromOtherHosts: Bool

    init(_ given: String) throws {
        let text =
            !given.isEmpty && given.allSatisfy(\.isASCII) && given.allSatisfy(\.isNumber) ? "127.0.0.1:" + given : given
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw Configuration.UsageError(description: "--http takes HOST:PORT, not '\(text)'")
        }
        var host = String(text[..<colon])
        let six = host.hasPrefix("[") && host.hasSuffix("]")
        if six { host = String(host.dropFirst().dropLast()) }
        let sock = socket(
            six ? AF_INET6 : AF_INET,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { throw SystemError("socket") }
        var one: Int32 = 1
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        var length: socklen_t
        if six {
            var ipv6 = sockaddr_in6()
            ipv6.sin6_family = sa_family_t(AF_INET6)
            ipv6.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &ipv6.sin6_addr) == 1 else {
                close(sock)
                throw Configuration.UsageError(description: "--http: '\(host)' is not an IPv6 address")
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: ipv6, as: sockaddr_in6.self) }
        } else {
            var ipv4 = sockaddr_in()
            ipv4.sin_family = sa_family_t(AF_INET)
            ipv4.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &ipv4.sin_addr) == 1 else {
                close(sock)
                throw Configuration.UsageError(description: "--http: '\(host)' is not an IPv4 address")
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: ipv4, as: sockaddr_in.self) }
        }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, length) }
        }
        guard bound == 0, listen(sock, 1024) == 0 else {
            let error = SystemError("bind \(text)")
            close(sock)
            throw error
        }
        // The port actually bound (a test asks for port 0).
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &length) }
        }
        let boundPort = withUnsafeBytes(of: storage) {
            six ? $0.load(as: sockaddr_in6.self).sin6_port : $0.load(as: sockaddr_in.self).sin_port
        }
        fd = sock
        reachableFromOtherHosts = !(six ? host == "::1" : host == "localhost" || host.hasPrefix("127."))
        address = six ? "[\(host)]:\(UInt16(bigEndian: boundPort))" : "\(host):\(UInt16(bigEndian: boundPort))"
    }
}
