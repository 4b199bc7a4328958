import BindingRuntime
import CLinux
import Foundation
import RPCServer
import Wire

/// The daemon's side of one runtime host process: spawns it on a socketpair, sends it calls with
/// internal ids, and hands back its answers and callback messages. Owned by the loop thread.
/// When the process dies or stalls, every call in flight ends with "runtime crashed".
final class HostProcess: FramedSocket, EventHandler {
    struct Pending {
        let started: UInt64
        var lastProgress: UInt64
        /// What the client gets of each callback message but the final one, as the host wrote it.
        let onCallback: (JSONText) -> Void
        /// The answer and the descriptors that came with it (the callee owns them).
        let onAnswer: (Result<JSONValue, RPCError>, [Int32]) -> Void
        var stream: StreamEnd
    }

    let namespace: String
    let pid: pid_t
    private let loop: EventLoop
    private let logger: Logger
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    /// Descriptors the process sent, oldest first, until the answer they came with takes them.
    @LoopBound private var receivedFDs: [Int32] = []
    @LoopBound private var pending: [Int64: Pending] = [:]
    private var nextID: Int64 = 1
    /// The daemon ended it (last handle gone, shutdown): not a crash.
    private(set) var stoppedByDaemon = false
    /// The channel is closed: the process is exiting or gone; calls are no longer sent.
    private(set) var closing = false
    /// Set once the process is gone: the error its calls and handles answer.
    private(set) var death: RPCError?
    private var onDeath: [(RPCError) -> Void] = []

    var inFlight: Int { pending.count }
    /// Bytes of messages read from and written to the host.
    private(set) var bytesFromHost = 0
    var bytesToHost: Int { output.bytesWritten }

    /// Starts `executable --runtime-host NAMESPACE --library PATH --parent PID` with the socketpair's other end as fd 3.
    init(
        executable: String, namespace: String, library: String, settings: HostSettings, loop: EventLoop, logger: Logger
    ) throws {
        let (pid, fd) = try Self.start(
            executable, HostMain.commandLine(namespace: namespace, library: library, mode: .serve, settings: settings)
        )
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.pid = pid
        self.namespace = namespace
        self.loop = loop
        self.logger = logger
        // The host's lines (answers can carry whole tensors): bounded only to keep the framer's sum sane.
        super.init(fd: fd, maxLineBytes: 1 << 30, maxOutputBytes: Int.max)
        do {
            try loop.register(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, handler: self)
        } catch {
            close(fd)  // the host exits when its channel closes
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            throw error
        }
        logger.info("\(namespace) runtime host started: pid \(pid), \(library)")
    }

    deinit { readBuffer.deallocate() }

    /// Starts `executable` with one end of a new socketpair as its fd 3 (default signal mask and
    /// dispositions); returns its pid and the other end, which the caller owns.
    static func start(_ executable: String, _ arguments: [String]) throws -> (pid: pid_t, channel: Int32) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SystemError("socketpair")
        }
        defer { close(pair[1]) }
        do {
            return (try spawn(executable, arguments, channel: pair[1]), pair[0])
        } catch {
            close(pair[0])
            throw error
        }
    }

    /// posix_spawn with fd 3 = `channel`.
    private static func spawn(_ executable: String, _ arguments: [String], channel: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, channel, HostMain.channelFD)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in Server.signalsToRestoreInChildren { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw SystemError("posix_spawn \(executable)", code: status) }
        return pid
    }

    /// Sends a call with the descriptors it uses (passed on, then closed here); `onCallback` runs
    /// per callback message but the final one, then `onAnswer` once: at the answer (for a call with
    /// a stream, as `stream` decides), or at the crash. `forwarded`: the client's text of the
    /// params with the handles rewritten, sent instead of `params` written again. Returns the
    /// call's id in the host.
    @discardableResult
    func call(
        method: String, params: JSONValue?, forwarded: JSONSplice? = nil, fds: [Int32] = [],
        stream: StreamEnd = StreamEnd(), onCallback: @escaping (JSONText) -> Void = { _ in },
        onAnswer: @escaping (Result<JSONValue, RPCError>, [Int32]) -> Void
    ) -> Int64? {
        if let death {
            fds.forEach { close($0) }
            onAnswer(.failure(death), [])
            return nil
        }
        let id = nextID
        nextID += 1
        let now = EventLoop.now()
        pending[id] = Pending(
            started: now, lastProgress: now, onCallback: onCallback, onAnswer: onAnswer, stream: stream)
        guard !closing else {  // answered when the exit is known
            fds.forEach { close($0) }
            return id
        }
        let sent = forwarded.map(HostMessage.Params.forwarded) ?? .value(params)
        send(.call(id: id, method: method, params: sent, fds: fds.count), fds: fds)
        return id
    }

    /// Asks the stream of call `id` to pause (its end says whether it did).
    func pause(call id: Int64) {
        guard death == nil, !closing, pending[id] != nil else { return }
        send(.pause(id: id))
    }

    /// A client stopped the stream of call `id` (its runtime was asked to abort): its end says how.
    func stopped(call id: Int64, by how: StreamEnding) {
        pending[id]?.stream.stopped(by: how)
    }

    private func send(_ message: HostMessage, fds: [Int32] = []) {
        _ = output.append(fds: fds) { message.write(into: &$0) }
        flush()
    }

    func whenDead(_ observer: @escaping (RPCError) -> Void) { onDeath.append(observer) }

    /// The oldest time a call in flight last made progress (for the stall check).
    var oldestProgress: UInt64? { pending.values.map(\.lastProgress).min() }

    // MARK: I/O

    func handleEvents(_ events: UInt32) {
        if events & EPOLLOUT.rawValue != 0 { flush() }
        guard !closing else { return }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            readAvailable()
        }
    }

    private func readAvailable() {
        while !closing {
            let outcome = read(
                into: readBuffer, descriptors: { fds, _ in receivedFDs += fds },
                lines: { event in
                    if case .line(let line) = event { handleMessage(line) }
                })
            switch outcome {
            case .bytes(let n, let filled):
                bytesFromHost += n
                if !filled { return }  // drained (level-triggered: more would wake us again)
            case .wouldBlock: return
            case .end, .failed: return channelClosed()
            }
        }
    }

    private func handleMessage(_ line: UnsafeRawBufferPointer) {
        switch HostMessage.read(line) {
        case .callback(let id, let final, let message)?:
            guard var call = pending[id] else { return }
            call.lastProgress = EventLoop.now()
            guard final else {
                pending[id] = call
                return call.onCallback(message)
            }
            guard case .object(let members)? = message.value else { return unreadable() }
            call.stream.finalMessage(members)
            pending[id] = call
            if let answer = call.stream.answerAfterFinal, pending.removeValue(forKey: id) != nil {
                call.onAnswer(answer.outcome, answer.fds)
            }
        case .result(let id, let value, let count, let paused)?:
            returned(id, .success(value), fds: takeDescriptors(count), paused: paused)
        case .failure(let id, let error)?:
            returned(id, .failure(error), fds: [], paused: false)
        case .ready(let ready)?:
            // What the library resolved matters only to the start-up probe, which read it.
            if let mismatch = HostMessage.versionMismatch(ready) { kill(reason: mismatch) }
        case .call?, .pause?, nil:
            unreadable()
        }
    }

    private func unreadable() {
        logger.warn("\(namespace) runtime host \(pid) sent an unreadable line")
    }

    private func takeDescriptors(_ count: Int) -> [Int32] {
        let fds = Array(receivedFDs.prefix(count))
        receivedFDs.removeFirst(fds.count)
        return fds
    }

    /// Call `id` returned: answered now, or at its stream's final message.
    private func returned(_ id: Int64, _ outcome: Result<JSONValue, RPCError>, fds: [Int32], paused: Bool) {
        guard var call = pending[id] else {
            fds.forEach { close($0) }
            return
        }
        guard let answer = call.stream.callReturned(outcome, fds: fds, paused: paused) else {
            call.lastProgress = EventLoop.now()  // the stream goes on: done at its final message
            pending[id] = call
            return
        }
        pending[id] = nil
        call.onAnswer(answer.outcome, answer.fds)
    }

    private func flush() {
        guard !closing else { return }
        if case .failed = flush(loop: loop, readEvents: EPOLLIN.rawValue | EPOLLRDHUP.rawValue) { channelClosed() }
    }

    // MARK: ending

    /// Stops the process: closing the channel makes it exit (SIGKILL if it lingers). Calls in flight
    /// end with `error` (default: "stopped").
    func stop(error: RPCError? = nil) {
        guard !closing else { return }
        stoppedByDaemon = true
        closeChannel()
        let error =
            error ?? RPCError(code: RPCError.Code.runtimeCrashed, message: "the \(namespace) runtime host was stopped")
        finish(error)  // no answer can come any more; the exit is only reaped
        awaitExit(attempt: 0, reason: error)
    }

    /// Kills a stalled process.
    func kill(reason: String) {
        guard !closing else { return }
        logger.error("\(namespace) runtime host \(pid) killed: \(reason)")
        Glibc.kill(pid, SIGKILL)
        closeChannel()
        awaitExit(
            attempt: 0,
            reason: RPCError(
                code: RPCError.Code.runtimeCrashed, message: "the \(namespace) runtime was killed: \(reason)",
                data: .object(["signal": "SIGKILL", "reason": .string(reason)])))
    }

    /// The channel closed under us: the process crashed or exited; learn how from its status.
    private func channelClosed() {
        guard !closing else { return }
        closeChannel()
        awaitExit(attempt: 0, reason: nil)
    }

    private func closeChannel() {
        closing = true
        loop.unregister(fd)
        close(fd)
        output.discard()
        receivedFDs.forEach { close($0) }
        receivedFDs = []
    }

    /// Polls for the exit status without blocking the loop (every 5 ms, SIGKILL after 0.5 s), then
    /// fails every call in flight with `reason`, or with the crash the status tells.
    private func awaitExit(attempt: Int, reason: RPCError?) {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            if death != nil { return }  // already finished (stopped): reaped, nothing to tell
            let error = reason ?? Self.describe(status: status, namespace: namespace)
            if reason == nil { logger.error("\(namespace) runtime host \(pid) died: \(error.message)") }
            finish(error)
            return
        }
        if attempt == 100 { Glibc.kill(pid, SIGKILL) }
        loop.schedule(after: 0.005) { [self] in awaitExit(attempt: attempt + 1, reason: reason) }
    }

    private func finish(_ error: RPCError) {
        guard death == nil else { return }
        death = error
        let calls = pending.values
        pending = [:]
        for call in calls {
            let answer = call.stream.hostDied(error)
            call.onAnswer(answer.outcome, answer.fds)
        }
        for observer in onDeath { observer(error) }
        onDeath = []
    }

    /// "runtime crashed" naming the signal, or the exit status.
    static func describe(status: Int32, namespace: String) -> RPCError {
        let termSignal = status & 0x7F
        if termSignal != 0 {
            let name = signalName(termSignal)
            return RPCError(
                code: RPCError.Code.runtimeCrashed, message: "the \(namespace) runtime crashed: \(name)",
                data: .object(["signal": .string(name), "signal_number": .int(Int64(termSignal))]))
        }
        let code = (status >> 8) & 0xFF
        return RPCError(
            code: RPCError.Code.runtimeCrashed, message: "the \(namespace) runtime host exited with status \(code)",
            data: .object(["exit_status": .int(Int64(code))]))
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGILL: "SIGILL",
            SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT",
            SIGTRAP: "SIGTRAP", SIGPIPE: "SIGPIPE",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}
