import Glibc

/// The daemon's socket could not be connected to: why, in terms a user can act on.
public struct ConnectionFailure: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable {
        /// Nothing listens there: the daemon is not running (or listens elsewhere).
        case notRunning
        /// The socket is not this user's to use (its group's members may).
        case notPermitted
        case other
    }

    public let socket: String
    /// The errno of `connect`.
    public let code: Int32

    public var reason: Reason {
        switch code {
        case ENOENT, ECONNREFUSED, ENOTDIR: .notRunning
        case EACCES, EPERM: .notPermitted
        default: .other
        }
    }

    public var description: String {
        switch reason {
        case .notRunning: "rkllm-server is not running: nothing listens on \(socket)"
        case .notPermitted:
            "not permitted to connect to \(socket)" + (group.map { ": members of group \($0) may" } ?? "")
        case .other: "cannot connect to \(socket): \(String(cString: strerror(code)))"
        }
    }

    /// The socket's group, by name (who may connect when the daemon made it group-writable).
    private var group: String? {
        var status = stat()
        guard stat(socket, &status) == 0, let entry = getgrgid(status.st_gid) else { return nil }
        return String(cString: entry.pointee.gr_name)
    }
}
