import CLinux
import Foundation

/// SIGTERM and SIGINT arrive through a signalfd on the loop: they start the graceful shutdown.
/// `blockShutdownSignals()` must run before any thread starts, so that no thread takes them.
final class SignalHandler: EventHandler {
    let fd: Int32
    private unowned let server: Server

    static func blockShutdownSignals() {
        var mask = shutdownMask()
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    private static func shutdownMask() -> sigset_t {
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGTERM)
        sigaddset(&mask, SIGINT)
        return mask
    }

    init(server: Server) throws {
        self.server = server
        var mask = Self.shutdownMask()
        fd = signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError("signalfd") }
    }

    func handleEvents(_ events: UInt32) {
        var info = signalfd_siginfo()
        while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            let name = info.ssi_signo == UInt32(SIGTERM) ? "SIGTERM" : "SIGINT"
            server.beginShutdown(reason: "\(name) from pid \(info.ssi_pid)")
        }
    }

    func close() { Glibc.close(fd) }
}

/// A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP) removes the socket file, so a
/// restarted daemon starts clean, then goes to the handler that was there before (Swift's
/// backtracer, which logs the backtrace) and dies of the same signal: a non-zero status for the
/// supervisor. The handler only makes async-signal-safe calls on preallocated data.
enum FatalSignals {
    private static let signals = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP]
    nonisolated(unsafe) private static var socketPath: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) private static var previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 32)

    static func install(socketPath path: String) {
        socketPath = strdup(path)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in FatalSignals.handle(signal) }
        action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND))
        sigemptyset(&action.sa_mask)
        for signal in signals {
            sigaction(signal, &action, previous + Int(signal))
        }
    }

    /// Puts the previous handlers back (the server stopped).
    static func uninstall() {
        for signal in signals { sigaction(signal, previous + Int(signal), nil) }
        free(socketPath)
        socketPath = nil
    }

    private static func handle(_ signal: Int32) {
        let message: StaticString = "rkllm-server: fatal signal; removing the socket\n"
        _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
        if let socketPath { unlink(socketPath) }
        sigaction(signal, previous + Int(signal), nil)
        raise(signal)
    }
}
