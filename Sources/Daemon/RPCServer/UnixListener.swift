import CLinux
import Foundation
import Wire

/// The listening Unix socket: a stale file from a dead daemon is replaced, a live daemon's socket
/// is refused, the file gets the configured mode and group, and is unlinked on close. Or the one a
/// service manager passed (socket activation, `LISTEN_FDS`): its file is the manager's, left in place.
final class UnixListener {
    let path: String
    let fd: Int32
    /// The daemon made the socket file (and removes it); false for an inherited socket.
    let ownsFile: Bool

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String, mode: mode_t, group: String?, backlog: Int32 = 4096) throws {
        self.path = path
        ownsFile = true
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

    private init(inherited fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        ownsFile = false
    }

    /// The first descriptor systemd's socket activation passed (fd 3, when `LISTEN_PID` is this
    /// process and `LISTEN_FDS` at least 1), if it is a listening Unix stream socket; nil when
    /// there is none. The variables are removed so the runtime hosts do not take them for theirs.
    static func inherited() throws -> UnixListener? {
        let environment = ProcessInfo.processInfo.environment
        guard let pid = environment["LISTEN_PID"].flatMap(pid_t.init), pid == getpid(),
            let count = environment["LISTEN_FDS"].flatMap(Int32.init), count >= 1
        else { return nil }
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        let fd: Int32 = 3  // SD_LISTEN_FDS_START
        var listening: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        var address = sockaddr_un()
        var addressSize = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &addressSize) }
        }
        guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening == 1, named == 0,
            address.sun_family == sa_family_t(AF_UNIX)
        else {
            throw Refused(description: "LISTEN_FDS: descriptor 3 is not a listening Unix stream socket")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        let path = withUnsafeBytes(of: address.sun_path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return UnixListener(inherited: fd, path: path)
    }

    /// Closes the socket and removes its file (when the daemon made it).
    func close() {
        Glibc.close(fd)
        if ownsFile { unlink(path) }
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
