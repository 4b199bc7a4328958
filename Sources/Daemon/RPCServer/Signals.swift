import CLinux
import Foundation
import Wire

/// Every signal a service may be sent that would otherwise end it arrives through a signalfd on the
/// loop and is handled there: SIGTERM, SIGINT and SIGQUIT start the graceful shutdown, SIGHUP has
/// nothing to reload (settings are read at start, the log is standard error), SIGUSR1 logs the
/// connections, and the others are logged and ignored. SIGPIPE and SIGXFSZ, which the kernel sends
/// to the thread that wrote, are ignored: the write fails instead. SIGKILL and SIGSTOP cannot be
/// caught; the crash signals go to the handler of CFatalSignals (`fatal_signals_install`).
/// `blockServiceSignals()` must run before any thread starts, so that no thread takes them.
final class SignalHandler: EventHandler {
    enum Action { case shutdown, reload, status, ignore }

    /// The signals read from the signalfd, and what each one does.
    static let handled: [(signal: Int32, name: String, action: Action)] = [
        (SIGTERM, "SIGTERM", .shutdown), (SIGINT, "SIGINT", .shutdown), (SIGQUIT, "SIGQUIT", .shutdown),
        (SIGHUP, "SIGHUP", .reload), (SIGUSR1, "SIGUSR1", .status), (SIGUSR2, "SIGUSR2", .ignore),
        (SIGALRM, "SIGALRM", .ignore), (SIGVTALRM, "SIGVTALRM", .ignore), (SIGPROF, "SIGPROF", .ignore),
        (SIGIO, "SIGIO", .ignore), (SIGPWR, "SIGPWR", .ignore), (SIGSTKFLT, "SIGSTKFLT", .ignore),
        (SIGXCPU, "SIGXCPU", .ignore),
    ]
    /// Ignored outright (thread-directed, so a signalfd on the loop would not see them).
    static let ignored: [Int32] = [SIGPIPE, SIGXFSZ]

    let fd: Int32
    private unowned let server: Server

    static func blockServiceSignals() {
        var mask = handledMask()
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        for signal in ignored { Glibc.signal(signal, SIG_IGN) }
    }

    private static func handledMask() -> sigset_t {
        var mask = sigset_t()
        sigemptyset(&mask)
        for entry in handled { sigaddset(&mask, entry.signal) }
        return mask
    }

    init(server: Server) throws {
        self.server = server
        var mask = Self.handledMask()
        fd = signalfd(-1, &mask, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError("signalfd") }
    }

    func handleEvents(_ events: UInt32) {
        var info = signalfd_siginfo()
        while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
            guard let entry = Self.handled.first(where: { $0.signal == Int32(info.ssi_signo) }) else { continue }
            let origin = "\(entry.name) from pid \(info.ssi_pid)"
            switch entry.action {
            case .shutdown: server.beginShutdown(reason: origin)
            case .reload:
                server.logger.info(
                    "\(origin): nothing to reload (settings are read at start; the log is standard error)")
            case .status: server.logger.info("\(origin): \(server.statsJSON()["connections"]?.jsonText ?? "")")
            case .ignore: server.logger.info("\(origin): ignored")
            }
        }
    }

    func close() { Glibc.close(fd) }
}
