import CLinux
import Foundation

/// The listening Unix socket: a stale file from a dead daemon is replaced, a live daemon's socket
/// is refused, the file gets the configured mode and group, and is unlinked on close.
final class UnixListener {
    let path: String
    let fd: Int32

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String, mode: mode_t, group: String?, backlog: Int32 = 4096) throws {
        self.path = path
        var address = try UnixSocket.address(path)
        try Self.clearStale(path)

        fd = socket(
            AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        do {
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard bound == 0 else { throw SystemError("bind \(path)") }
            guard chmod(path, mode) == 0 else { throw SystemError("chmod \(path)") }
            if let group {
                guard let entry = getgrnam(group) else {
                    throw Refused(description: "socket group '\(group)' does not exist")
                }
                guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else { throw SystemError("chown \(path)") }
            }
            guard listen(fd, backlog) == 0 else { throw SystemError("listen") }
        } catch {
            Glibc.close(fd)
            unlink(path)
            throw error
        }
    }

    /// Closes the socket and removes its file.
    func close() {
        Glibc.close(fd)
        unlink(path)
    }

    /// Removes a socket file nobody listens on; refuses a live one or a file that is not a socket.
    private static func clearStale(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw Refused(description: "\(path) exists and is not a socket; not replacing it")
        }
        do {
            Glibc.close(try UnixSocket.connect(path))
            throw Refused(description: "another daemon is serving \(path); stop it first or choose another --socket")
        } catch let error as SystemError where error.code == ECONNREFUSED || error.code == ENOENT {
            // Nobody listens: a dead daemon's file.
        }
        guard unlink(path) == 0 || errno == ENOENT else { throw SystemError("unlink stale \(path)") }
    }
}
