import CLinux
import Foundation

/// The classic spare descriptor for a process out of file descriptors: when `accept` fails with
/// EMFILE or ENFILE, the spare is closed so the waiting connection can be taken, told why and
/// closed, then the spare is opened again. Without it the listening socket stays readable, nothing
/// can take the connection, and the loop spins on it.
struct DescriptorReserve {
    private var fd = DescriptorReserve.openSpare()

    private static func openSpare() -> Int32 { open("/dev/null", O_RDONLY | O_CLOEXEC) }

    /// Runs `body` with the spare freed, then takes the spare back; nil when there was none to free.
    mutating func spend<Result>(_ body: () -> Result) -> Result? {
        if fd < 0 { fd = Self.openSpare() }
        guard fd >= 0 else { return nil }
        close(fd)
        let result = body()
        fd = Self.openSpare()
        return result
    }

    mutating func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}

/// What every listener (the Unix socket, HTTP) does when accept fails for want of descriptors:
/// one waiting connection at a time is taken with the spare's room, told why by its front and
/// closed; with no room even for that, the listener is left unwatched until a connection closes or
/// a second passes. The episode is logged once, when it starts, and once when it ends. Loop thread only.
public final class DescriptorShortage {
    private var reserve = DescriptorReserve()
    private var inShortage = false
    private var paused: [Int32] = []
    private unowned let loop: EventLoop
    private let logger: Logger

    init(loop: EventLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
    }

    /// How a listener's round of accepting goes on after `accept` failed with `code`.
    public enum Next { case acceptAgain, stop }

    /// Called when `accept` on `listener` failed with `code` (EMFILE or ENFILE): `refuse` gets the
    /// descriptor of one waiting connection to answer and close. `open` counts the connections
    /// held, for the log.
    public func handle(listener: Int32, open: Int, refuse: (Int32) -> Void) -> Next {
        if !inShortage {
            inShortage = true
            logger.error(
                "accept: out of file descriptors (\(open) connections): refusing new connections until one frees")
        }
        let outcome = reserve.spend { () -> Int32 in
            let fd = clinux_accept_nonblocking(listener)
            guard fd >= 0 else { return errno }
            refuse(fd)
            return 0
        }
        switch outcome ?? EMFILE {
        case 0: return .acceptAgain
        case EAGAIN, EWOULDBLOCK: return .stop
        default:
            pause(listener)
            return .stop
        }
    }

    /// Whether `code` (an accept's errno) means the process or the system is out of descriptors.
    public static func isShortage(_ code: Int32) -> Bool { code == EMFILE || code == ENFILE }

    /// A connection was admitted: the episode is over, if there was one.
    public func admitted() {
        guard inShortage else { return }
        inShortage = false
        logger.info("accepting connections again")
    }

    /// A connection closed (or a second passed): the paused listeners are watched again.
    public func resume() {
        for fd in paused { loop.modify(fd, events: EPOLLIN.rawValue) }
        paused.removeAll()
    }

    /// A listener about to close: never watched again by `resume`.
    public func forget(_ listener: Int32) { paused.removeAll { $0 == listener } }

    func release() { reserve.release() }

    private func pause(_ listener: Int32) {
        guard !paused.contains(listener) else { return }
        paused.append(listener)
        loop.modify(listener, events: 0)
        // Runtime hosts free descriptors too, without a connection closing. Timers end with the loop.
        loop.schedule(after: 1) { [weak self] in self?.resume() }
    }
}
