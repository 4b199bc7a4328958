import CLinux
import Glibc

/// Unix stream sockets: addresses, client connections, and reads that also take the descriptors
/// sent beside the data (SCM_RIGHTS). One place for what the server, the runtime hosts, the
/// benchmark and the tests all do.
public enum UnixSocket {
    public struct PathError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The address of `path` (1 to 107 bytes).
    public static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw PathError(description: "socket path '\(path)' must be 1 to \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// A blocking client socket connected to `path` (close-on-exec).
    public static func connect(_ path: String) throws -> Int32 {
        var address = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let error = SystemError("connect \(path)")
            close(fd)
            throw error
        }
        return fd
    }

    /// recvmsg into `buffer`: the bytes read (0 at end of stream, -1 with errno), and whether
    /// descriptors were lost (more than CLINUX_MAX_FDS in one message). Descriptors that came
    /// with the data are appended to `fds`, close-on-exec; the caller owns them.
    public static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, fds: inout [Int32]) -> (
        count: Int, lostDescriptors: Bool
    ) {
        var received:
            (
                Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32,
                Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count: Int32 = 0
        var truncated: Int32 = 0
        let n = withUnsafeMutableBytes(of: &received) { raw in
            let slots = raw.bindMemory(to: Int32.self)
            let n = clinux_recv_with_fds(
                fd, buffer.baseAddress, buffer.count, slots.baseAddress, Int32(slots.count), &count, &truncated)
            if count > 0 { fds += slots[0..<Int(count)] }
            return n
        }
        return (n, truncated != 0)
    }
}
