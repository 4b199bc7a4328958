import BindingRuntime
import CFatalSignals
import CLinux
import Foundation

/// The daemon's front: the listening socket, the connections and the JSON-RPC layer
/// (RequestDispatch.swift) with the server's own methods (Introspection.swift), all owned by
/// one event-loop thread. Method handlers answer through `Call.respond` from any thread; an answer
/// for a connection that has gone is dropped.
public final class Server: @unchecked Sendable {
    public let configuration: Configuration
    public let logger: Logger
    public let version: String
    let loop: EventLoop
    /// One read buffer for every connection: reads happen one at a time on the loop thread.
    public let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)

    var methods: [String: MethodSlot] = [:]
    var methodOrder: [String] = []
    private var listener: UnixListener?
    /// Out of file descriptors: what every listener does then (the spare descriptor, pausing).
    public let descriptorShortage: DescriptorShortage
    /// Lines a client's doing causes, bounded per client and cause.
    let clientLog: ClientLog
    private var listenerHandler: ListenerHandler?
    @LoopBound var connections: [UInt64: Connection] = [:]
    /// Clients of other fronts (HTTP): Server+Fronts.swift.
    @LoopBound var frontConnections: Set<UInt64> = []
    var nextConnectionID: UInt64 = 1
    @LoopBound var stats = Stats()
    /// An iteration's replies in one system call, when on and the kernel has io_uring (opened by
    /// `run`, on the loop's thread); `ringWriterState` says which.
    var ringWriter: RingWriter?
    var ringWriterState = "off"
    @LoopBound var shuttingDown = false
    private var shutdownDeadline: Int?
    /// `components` of the OpenRPC document (the generated JSON Schemas of the C types).
    public var openRPCComponents: JSONValue?
    /// Extra `server.info` and `server.stats` members (runtimes) from whoever hosts them.
    var infoProviders: [@Sendable () -> (String, JSONValue)] = []
    var statsProviders: [@Sendable () -> (String, JSONValue)] = []

    public init(configuration: Configuration, logger: Logger, version: String, methods: [ServerMethod]) throws {
        self.configuration = configuration
        self.logger = logger
        self.version = version
        buffered = BufferedBytes(
            maxInput: configuration.maxBufferedInputBytes, maxOutput: configuration.maxBufferedOutputBytes)
        loop = try EventLoop()
        descriptorShortage = DescriptorShortage(loop: loop, logger: logger)
        clientLog = ClientLog(logger: logger, loop: loop)
        for method in builtinMethods() + methods { add(method) }
        loop.onIterationEnd = { [unowned self] in flushDirty() }
    }

    deinit { readBuffer.deallocate() }

    /// Process-wide setup before any thread starts: the signals a service gets go to the loop's
    /// signalfd, SIGPIPE and SIGXFSZ are ignored (`SignalHandler`); large buffers are reused
    /// (`LargeBuffers`).
    public static func prepareProcess() {
        SignalHandler.blockServiceSignals()
        LargeBuffers.keepForReuse()
    }

    /// The signals whose disposition or mask the daemon changes: a child process puts them back.
    public static var signalsToRestoreInChildren: [Int32] {
        SignalHandler.handled.map(\.signal) + SignalHandler.ignored
    }

    private func add(_ method: ServerMethod) {
        if methods[method.name] == nil { methodOrder.append(method.name) }
        methods[method.name] = MethodSlot(method)
    }

    /// Called on the loop thread for `server.info` / `server.stats`.
    public func addInfo(_ provider: @escaping @Sendable () -> (String, JSONValue)) {
        infoProviders.append(provider)
    }

    public func addStats(_ provider: @escaping @Sendable () -> (String, JSONValue)) {
        statsProviders.append(provider)
    }

    // MARK: running

    /// Binds the socket, serves until SIGTERM/SIGINT (or `requestShutdown`), then returns the exit status.
    public func run() throws -> Int32 {
        let listener =
            try UnixListener.inherited()
            ?? UnixListener(
                path: configuration.socketPath, mode: configuration.socketMode, group: configuration.socketGroup)
        self.listener = listener
        let handler = ListenerHandler(server: self)
        listenerHandler = handler
        try loop.register(listener.fd, events: EPOLLIN.rawValue, handler: handler)
        let signals = try SignalHandler(server: self)
        try loop.register(signals.fd, events: EPOLLIN.rawValue, handler: signals)
        if fatal_signals_install(
            "rkllm-server: fatal signal; removing the socket\n", listener.ownsFile ? listener.path : nil)
            != 0
        {
            logger.warn("a crash will leave the socket file: \(String(cString: strerror(errno)))")
        }
        openRingWriter()
        logger.info(
            "rkllm-server \(version) listening on \(listener.path)"
                + (listener.ownsFile ? "" : " (a socket the service manager passed)") + " (pid \(getpid()), "
                + "max \(configuration.maxConnections) connections, \(methods.count) methods)")
        loop.run()
        ringWriter = nil  // its ring closed with the loop that owned it
        descriptorShortage.release()
        fatal_signals_uninstall()
        signals.close()
        logger.info("stopped")
        return 0
    }

    private func openRingWriter() {
        guard configuration.ioUring else { return }
        do {
            ringWriter = try RingWriter()
            ringWriterState = "on"
        } catch {
            ringWriterState = "unavailable: \(error)"
            logger.info("each reply is written with a system call of its own: no io_uring here (\(error))")
        }
    }

    /// Starts the graceful shutdown from any thread.
    public func requestShutdown(reason: String) {
        loop.execute { [self] in beginShutdown(reason: reason) }
    }

    func beginShutdown(reason: String) {
        guard !shuttingDown else { return }
        shuttingDown = true
        logger.info(
            "shutting down (\(reason)): \(connections.count) connections, flushing up to \(configuration.shutdownTimeout) s"
        )
        if let listener {
            descriptorShortage.forget(listener.fd)
            loop.unregister(listener.fd)
            listener.close()
            self.listener = nil
        }
        for connection in connections.values {
            connection.stopReading()
            connection.flush()
        }
        for observer in shutdownObservers { observer() }
        shutdownDeadline = loop.schedule(after: configuration.shutdownTimeout) { [unowned self] in finishShutdown() }
        checkShutdownDone()
    }

    func checkShutdownDone() {
        guard shuttingDown else { return }
        if connections.values.allSatisfy({ $0.pendingOutputBytes == 0 && $0.inFlight == 0 }) { finishShutdown() }
    }

    private func finishShutdown() {
        if let shutdownDeadline { loop.cancelTimer(shutdownDeadline) }
        shutdownDeadline = nil
        for connection in Array(connections.values) { connection.close(reason: "server shutting down") }
        loop.stop()
    }

    // MARK: connections

    func accept() {
        guard let listener else { return }
        while true {
            let fd = clinux_accept_nonblocking(listener.fd)
            if fd < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                if DescriptorShortage.isShortage(errno) {
                    let next = descriptorShortage.handle(listener: listener.fd, open: openConnections) { fd in
                        let id = nextConnectionID
                        nextConnectionID += 1
                        reject(
                            fd, id: id,
                            error: RPCError(
                                code: RPCError.Code.tooManyConnections, message: "the server is out of file descriptors"
                            ))
                    }
                    if next == .acceptAgain { continue }
                    return
                }
                logger.warn("accept: \(String(cString: strerror(errno)))")
                return
            }
            admit(fd)
        }
    }

    private func admit(_ fd: Int32) {
        var pid: pid_t = 0
        var uid: uid_t = 0
        var gid: gid_t = 0
        let peer: Peer? = clinux_peer_credentials(fd, &pid, &uid, &gid) == 0 ? Peer(pid: pid, uid: uid, gid: gid) : nil
        let id = nextConnectionID
        nextConnectionID += 1
        guard let peer else {
            reject(
                fd, id: id, error: RPCError(code: RPCError.Code.internalError, message: "cannot read peer credentials"))
            return
        }
        if let allowed = configuration.allowedUIDs, !allowed.contains(peer.uid) {
            clientLog.log(
                .warn, cause: "refused uid \(peer.uid), not in the allowed uids", client: 0, connection: id,
                "refused pid \(peer.pid) uid \(peer.uid): not in the allowed uids")
            reject(
                fd, id: id,
                error: RPCError(code: RPCError.Code.notPermitted, message: "uid \(peer.uid) is not allowed to connect"))
            return
        }
        guard connections.count < configuration.maxConnections else {
            clientLog.log(
                .warn, cause: "refused: connection limit", client: 0, connection: id,
                "refused pid \(peer.pid): \(connections.count) connections, the limit")
            reject(
                fd, id: id,
                error: RPCError(
                    code: RPCError.Code.tooManyConnections,
                    message: "too many connections (limit \(configuration.maxConnections))"))
            return
        }
        let connection = Connection(
            id: id, fd: fd, peer: peer, server: self, buffered: buffered,
            maxMessageBytes: configuration.maxMessageBytes, maxOutputBytes: configuration.maxOutputBytes)
        do {
            try loop.register(fd, events: Connection.readEvents, handler: connection)
        } catch {
            logger.error("register connection: \(error)", connection: id)
            close(fd)
            return
        }
        connections[id] = connection
        stats.connectionsAccepted += 1
        descriptorShortage.admitted()
        clientLog.log(
            .info, cause: "connected: uid \(peer.uid)", client: 0, connection: id,
            "connected: pid \(peer.pid) uid \(peer.uid) gid \(peer.gid)")
    }

    /// One error line, then close: for a connection that cannot be served.
    private func reject(_ fd: Int32, id: UInt64, error: RPCError) {
        stats.connectionsRejected += 1
        var bytes: [UInt8] = []
        JSONRPC.writeError(id: .null, error: error, into: &bytes)
        bytes.append(0x0A)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        close(fd)
    }

    func connectionClosed(_ connection: Connection, reason: String) {
        connections[connection.id] = nil
        descriptorShortage.resume()
        clientLog.clientGone(connection.id)
        logger.debug("closed: \(reason)", connection: connection.id)
        for observer in disconnectObservers { observer(connection.id) }
        checkShutdownDone()
    }

    /// Called on the loop thread with the id of each connection that closes (its handles go with it).
    @LoopBound var disconnectObservers: [(UInt64) -> Void] = []
    public func onDisconnect(_ observer: @escaping (UInt64) -> Void) { disconnectObservers.append(observer) }

    /// Called on the loop thread when the graceful shutdown starts (hosts stop, pending calls end).
    private var shutdownObservers: [() -> Void] = []
    public func onShutdown(_ observer: @escaping () -> Void) { shutdownObservers.append(observer) }

    /// Every connection's incomplete request and unwritten replies, for the overall caps.
    public let buffered: BufferedBytes

    /// A client not reading its replies: dropped (it would not read an error either).
    func dropSlowReader(_ connection: Connection, limit setting: String, _ limit: Int) {
        noteSlowReader(connection.id, unread: connection.pendingOutputBytes, limit: setting, limit)
        connection.close(reason: "output limit")
    }

    /// A client of any front dropped for not reading its replies: counted and logged.
    public func noteSlowReader(_ id: UInt64, unread: Int, limit setting: String, _ limit: Int) {
        stats.clientsDroppedForSlowReading += 1
        clientLog.log(
            .warn, cause: "dropped: replies unread", client: 0, connection: id,
            "dropped: \(unread) bytes of replies unread (\(setting): \(limit))")
    }

    /// A client of another front with replies unread, for the overall cap: how many, and how to drop it.
    public struct FrontReader {
        public let unread: Int
        public let drop: () -> Void
        public init(unread: Int, drop: @escaping () -> Void) {
            self.unread = unread
            self.drop = drop
        }
    }

    /// Each front's client with the most replies unread (loop thread).
    private var frontReaders: [() -> FrontReader?] = []
    public func addReaders(_ largest: @escaping () -> FrontReader?) { frontReaders.append(largest) }

    /// Replies unread by all clients together, of every front, passed `--max-buffered-output`:
    /// the client with the most of them goes.
    public func dropLargestReader() {
        let socketReader = connections.values.max { $0.pendingOutputBytes < $1.pendingOutputBytes }
        let front = frontReaders.compactMap { $0() }.max { $0.unread < $1.unread }
        if let front, front.unread > socketReader?.pendingOutputBytes ?? 0 {
            return front.drop()
        }
        guard let socketReader, socketReader.pendingOutputBytes > 0 else { return }
        dropSlowReader(socketReader, limit: "max_buffered_output", configuration.maxBufferedOutputBytes)
    }

    /// Incomplete lines of all clients together passed `--max-buffered-input`: this client's line
    /// was dropped; it is told, and its next line is read as usual.
    func handleInputOverCap(bytes: Int, from connection: Connection) {
        stats.linesOverInputCap += 1
        stats.errors += 1
        clientLog.log(
            .warn, cause: "dropped incomplete lines", client: connection.id, connection: connection.id,
            "dropped \(bytes) bytes of an incomplete line: \(buffered.input) bytes of lines buffered for all clients")
        let error = RPCError.limitExceeded(
            "max_buffered_input", configuration.maxBufferedInputBytes,
            what: "this line (\(bytes) bytes so far, dropped; the rest is skipped)")
        connection.send { JSONRPC.writeError(id: .null, error: error, into: &$0) }
    }

    /// The method slot by name; the last one found is kept, as clients repeat the same method.
    private var lastMethod: MethodSlot?
    /// The last method's name when it is plain text (what `PlainRequest` compares bytes with).
    private(set) var knownMethod = ""
    func method(named name: String) -> MethodSlot? {
        if let last = lastMethod, last.method.name == name { return last }
        guard let found = methods[name] else { return nil }
        lastMethod = found
        knownMethod = JSONScan.isPlain(name) ? name : ""
        return found
    }

    /// Sockets with bytes queued in this loop iteration (the socket's clients and HTTP's), written
    /// at its end.
    @LoopBound private var dirty: [QueuedSocket] = []

    func flushLater(_ socket: QueuedSocket) { dirty.append(socket) }

    private func flushDirty() {
        // Most replies leave in one system call; a flush writes the rest (descriptors, what a
        // full socket left) and sees to each socket's state.
        if dirty.count > 1, let ringWriter { ringWriter.write(dirty) }
        // By index: a flush may queue replies to others, which join the end of the list.
        var next = 0
        while next < dirty.count {
            let socket = dirty[next]
            next += 1
            socket.flushScheduled = false
            socket.flushQueued()
        }
        dirty.removeAll(keepingCapacity: true)
    }

    /// Runs `task` on the loop thread: now when already there, else queued.
    public func onLoop(_ task: @escaping @Sendable () -> Void) {
        if loop.inLoopThread { task() } else { loop.execute(task) }
    }

    public var eventLoop: EventLoop { loop }

    func connection(_ id: UInt64) -> Connection? { connections[id] }

    /// Whether the client of `id` is still connected (loop thread only).
    public func isConnected(_ id: UInt64) -> Bool { connections[id] != nil || frontConnections.contains(id) }

    /// Socket clients and clients of other fronts.
    public var openConnections: Int { connections.count + frontConnections.count }
}

/// The listening socket's readiness: accept everything pending.
private final class ListenerHandler: EventHandler {
    unowned let server: Server
    init(server: Server) { self.server = server }
    func handleEvents(_ events: UInt32) { server.accept() }
}
