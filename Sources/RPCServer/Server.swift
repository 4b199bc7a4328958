import BindingRuntime
import CLinux
import Foundation

/// The daemon's front: the listening socket, the connections and the JSON-RPC layer, all owned by
/// one event-loop thread. Method handlers answer through `Call.respond` from any thread; an answer
/// for a connection that has gone is dropped.
public final class Server: @unchecked Sendable {
    public let configuration: Configuration
    public let logger: Logger
    public let version: String
    let loop: EventLoop
    /// One read buffer for every connection: reads happen one at a time on the loop thread.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    let receivedFDBuffer = UnsafeMutableBufferPointer<Int32>.allocate(capacity: Int(CLINUX_MAX_FDS))

    private var methods: [String: MethodSlot] = [:]
    private var methodOrder: [String] = []
    private var listener: UnixListener?
    private var listenerHandler: ListenerHandler?
    private var connections: [UInt64: Connection] = [:]
    private var nextConnectionID: UInt64 = 1
    private var stats = Stats()
    private var shuttingDown = false
    private var shutdownDeadline: Int?
    /// `components` of the OpenRPC document (the generated JSON Schemas of the C types).
    public var openRPCComponents: JSONValue?
    /// Extra `server.info` and `server.stats` members (runtimes) from whoever hosts them.
    private var infoProviders: [@Sendable () -> (String, JSONValue)] = []
    private var statsProviders: [@Sendable () -> (String, JSONValue)] = []

    public init(configuration: Configuration, logger: Logger, version: String, methods: [ServerMethod]) throws {
        self.configuration = configuration
        self.logger = logger
        self.version = version
        loop = try EventLoop()
        for method in builtinMethods() + methods { add(method) }
        loop.onIterationEnd = { [unowned self] in flushDirty() }
    }

    deinit {
        readBuffer.deallocate()
        receivedFDBuffer.deallocate()
    }

    /// Process-wide setup before any thread starts: SIGTERM/SIGINT go to the loop's signalfd,
    /// SIGPIPE is ignored.
    public static func prepareProcess() { SignalHandler.blockShutdownSignals() }

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
        let listener = try UnixListener(path: configuration.socketPath, mode: configuration.socketMode, group: configuration.socketGroup)
        self.listener = listener
        let handler = ListenerHandler(server: self)
        listenerHandler = handler
        try loop.register(listener.fd, events: EPOLLIN.rawValue, handler: handler)
        let signals = try SignalHandler(server: self)
        try loop.register(signals.fd, events: EPOLLIN.rawValue, handler: signals)
        FatalSignals.install(socketPath: configuration.socketPath)
        logger.info("rkllm-server \(version) listening on \(configuration.socketPath) (pid \(getpid()), "
            + "max \(configuration.maxConnections) connections, \(methods.count) methods)")
        loop.run()
        FatalSignals.uninstall()
        signals.close()
        logger.info("stopped")
        return 0
    }

    /// Starts the graceful shutdown from any thread.
    public func requestShutdown(reason: String) {
        loop.execute { [self] in beginShutdown(reason: reason) }
    }

    func beginShutdown(reason: String) {
        guard !shuttingDown else { return }
        shuttingDown = true
        logger.info("shutting down (\(reason)): \(connections.count) connections, flushing up to \(configuration.shutdownTimeout) s")
        if let listener {
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

    private func checkShutdownDone() {
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
                if errno == EMFILE || errno == ENFILE {
                    logger.error("accept: out of file descriptors (\(connections.count) connections)")
                    return
                }
                logger.warn("accept: \(String(cString: strerror(errno)))")
                return
            }
            admit(fd)
        }
    }

    private func admit(_ fd: Int32) {
        var pid: pid_t = 0, uid: uid_t = 0, gid: gid_t = 0
        let peer: Peer? = clinux_peer_credentials(fd, &pid, &uid, &gid) == 0 ? Peer(pid: pid, uid: uid, gid: gid) : nil
        let id = nextConnectionID
        nextConnectionID += 1
        guard let peer else {
            reject(fd, id: id, error: RPCError(code: RPCError.internalError, message: "cannot read peer credentials"))
            return
        }
        if let allowed = configuration.allowedUIDs, !allowed.contains(peer.uid) {
            logger.warn("refused pid \(peer.pid) uid \(peer.uid): not in the allowed uids", connection: id)
            reject(fd, id: id, error: RPCError(code: RPCError.notPermittedCode, message: "uid \(peer.uid) is not allowed to connect"))
            return
        }
        guard connections.count < configuration.maxConnections else {
            logger.warn("refused pid \(peer.pid): \(connections.count) connections, the limit", connection: id)
            reject(fd, id: id, error: RPCError(code: RPCError.tooManyConnectionsCode,
                                               message: "too many connections (limit \(configuration.maxConnections))"))
            return
        }
        let connection = Connection(id: id, fd: fd, peer: peer, server: self,
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
        logger.info("connected: pid \(peer.pid) uid \(peer.uid) gid \(peer.gid)", connection: id)
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
        logger.debug("closed: \(reason)", connection: connection.id)
        for observer in disconnectObservers { observer(connection.id) }
        checkShutdownDone()
    }

    /// Called on the loop thread with the id of each connection that closes (its handles go with it).
    private var disconnectObservers: [(UInt64) -> Void] = []
    public func onDisconnect(_ observer: @escaping (UInt64) -> Void) { disconnectObservers.append(observer) }

    /// Called on the loop thread when the graceful shutdown starts (workers stop, pending calls end).
    private var shutdownObservers: [() -> Void] = []
    public func onShutdown(_ observer: @escaping () -> Void) { shutdownObservers.append(observer) }

    func dropSlowReader(_ connection: Connection) {
        stats.clientsDroppedForSlowReading += 1
        logger.warn("dropped: more than \(configuration.maxOutputBytes) bytes of replies unread", connection: connection.id)
        connection.close(reason: "output limit")
    }

    // MARK: JSON-RPC

    func handleOverlongLine(bytes: Int, from connection: Connection) {
        stats.overlongLines += 1
        stats.errors += 1
        connection.send { out in
            JSONRPC.writeError(id: .null, error: RPCError(code: RPCError.invalidRequest,
                message: "message longer than \(configuration.maxMessageBytes) bytes; skipped",
                data: .object(["limit": .int(Int64(configuration.maxMessageBytes))])), into: &out)
        }
    }

    func handleLine(_ line: UnsafeRawBufferPointer, from connection: Connection) {
        guard !connection.closed else { return }
        let message: JSONValue
        do {
            // One request object, the common case, is read without building the object.
            if let single = try JSONRPC.request(bytes: line) {
                dispatch(single, from: connection, batch: nil)
                return
            }
            message = try JSONParser.parse(line)
        } catch {
            stats.parseErrors += 1
            stats.errors += 1
            connection.send { JSONRPC.writeError(id: .null, error: JSONRPC.parseError(error), into: &$0) }
            return
        }
        if case .array(let items) = message {
            guard !items.isEmpty else {
                stats.errors += 1
                connection.send { JSONRPC.writeError(id: .null, error: JSONRPC.invalidRequest("empty batch"), into: &$0) }
                return
            }
            let batch = Batch(count: items.count)
            for item in items { dispatch(item, from: connection, batch: batch) }
            batch.sealed = true
            finish(batch, connection: connection)
        } else {
            dispatch(message, from: connection, batch: nil)
        }
    }

    /// The replies of one batch, sent as one array when the last one arrives. Only the loop thread
    /// touches it (answers from other threads hop to the loop first).
    final class Batch: @unchecked Sendable {
        var replies: [[UInt8]] = []
        var outstanding: Int
        var sealed = false
        init(count: Int) { outstanding = count }
    }

    private func dispatch(_ message: JSONValue, from connection: Connection, batch: Batch?) {
        dispatch(JSONRPC.request(from: message), from: connection, batch: batch)
    }

    private func dispatch(_ checked: Result<Request, JSONRPC.Invalid>, from connection: Connection, batch: Batch?) {
        let request: Request
        switch checked {
        case .success(let r): request = r
        case .failure(let failure):
            stats.errors += 1
            reply(connection: connection, batch: batch) { JSONRPC.writeError(id: failure.id, error: failure.error, into: &$0) }
            return
        }
        if request.id == nil { stats.notifications += 1 } else { stats.requests += 1 }
        guard let slot = method(named: request.method) else {
            if let id = request.id {
                stats.errors += 1
                reply(connection: connection, batch: batch) { JSONRPC.writeError(id: id, error: JSONRPC.methodNotFound(request.method), into: &$0) }
            } else {
                reply(connection: connection, batch: batch, nothing: true)
            }
            return
        }
        if shuttingDown, request.id != nil {
            stats.errors += 1
            reply(connection: connection, batch: batch) {
                JSONRPC.writeError(id: request.id!, error: RPCError(code: RPCError.shuttingDownCode, message: "server shutting down"), into: &$0)
            }
            return
        }
        switch slot.method.handler {
        case .immediate(let body):
            // No Call: answered here and now.
            let outcome = Result { try body(request) }
                .mapError { $0 as? RPCError ?? RPCError(code: RPCError.internalError, message: "internal error: \($0)") }
            record(slot, started: loop.iterationStarted, outcome)
            answer(request, outcome, connection: connection, batch: batch, fds: [])
        case .deferred(let handler):
            connection.inFlight += 1
            handler(Call(request: request, connection: connection.id, peer: connection.peer, server: self, slot: slot, batch: batch))
        }
    }

    private func record(_ slot: MethodSlot, started: UInt64, _ outcome: Result<JSONValue, RPCError>) {
        let failed: Bool
        if case .failure = outcome { failed = true } else { failed = false }
        slot.stats.record(nanos: EventLoop.now() - started, failed: failed)
        if failed { stats.errors += 1 }
    }

    /// The answer to a request (none for a notification), alone or into its batch.
    private func answer(_ request: Request, _ outcome: Result<JSONValue, RPCError>, connection: Connection, batch: Batch?, fds: [Int32]) {
        if let id = request.id {
            reply(connection: connection, batch: batch, fds: fds) { JSONRPC.write(id: id, outcome, into: &$0) }
        } else {
            reply(connection: connection, batch: batch, nothing: true)
        }
    }

    /// The method slot by name; the last one found is kept, as clients repeat the same method.
    private var lastMethod: MethodSlot?
    private func method(named name: String) -> MethodSlot? {
        if let last = lastMethod, last.method.name == name { return last }
        lastMethod = methods[name] ?? lastMethod
        return lastMethod?.method.name == name ? lastMethod : nil
    }

    /// Connections with replies queued in this loop iteration, written at its end.
    private var dirty: [Connection] = []

    func flushLater(_ connection: Connection) { dirty.append(connection) }

    private func flushDirty() {
        while !dirty.isEmpty {
            let batch = dirty
            dirty.removeAll(keepingCapacity: true)
            for connection in batch { connection.flush() }
        }
    }

    /// Runs `task` on the loop thread: now when already there, else queued.
    public func onLoop(_ task: @escaping @Sendable () -> Void) {
        if loop.inLoopThread { task() } else { loop.execute(task) }
    }

    public var eventLoop: EventLoop { loop }

    func connection(_ id: UInt64) -> Connection? { connections[id] }

    /// A stream message of a call not yet answered, on the loop thread.
    func emit(_ call: Call, _ result: JSONValue, fds: [Int32]) {
        guard !call.answered, let id = call.request.id, let connection = connections[call.connection] else {
            fds.forEach { close($0) }
            return
        }
        connection.send(fds: fds) { JSONRPC.writeResult(id: id, result: result, into: &$0) }
    }

    /// A handler's answer, on the loop thread. Descriptors go only with the answer to a single
    /// request of a client still there; otherwise they are closed.
    func complete(_ call: Call, _ outcome: Result<JSONValue, RPCError>, fds: [Int32] = []) {
        var fds = fds
        guard !call.answered else {
            fds.forEach { close($0) }
            return
        }
        call.answered = true
        record(call.slot, started: call.started, outcome)
        if call.batch != nil || call.request.id == nil || connections[call.connection] == nil {
            fds.forEach { close($0) }
            fds = []
        }
        guard let connection = connections[call.connection] else { return } // gone: dropped safely
        connection.inFlight -= 1
        answer(call.request, outcome, connection: connection, batch: call.batch, fds: fds)
        connection.closeIfDone()
        checkShutdownDone()
    }

    private func reply(connection: Connection, batch: Batch?, nothing: Bool = false, fds: [Int32] = [],
                       _ write: (inout [UInt8]) -> Void = { _ in }) {
        guard let batch else {
            if !nothing { connection.send(fds: fds, write) }
            return
        }
        if !nothing {
            var bytes: [UInt8] = []
            write(&bytes)
            batch.replies.append(bytes)
        }
        batch.outstanding -= 1
        if batch.sealed { finish(batch, connection: connection) }
    }

    private func finish(_ batch: Batch, connection: Connection) {
        guard batch.outstanding == 0, !batch.replies.isEmpty else { return }
        let replies = batch.replies
        batch.replies = []
        connection.send { out in
            out.append(UInt8(ascii: "["))
            for (i, reply) in replies.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: reply)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    // MARK: introspection

    private func builtinMethods() -> [ServerMethod] {
        [
            .immediate("server.ping", summary: "Answers \"pong\"", result: ["type": "string"]) { _ in "pong" },
            .immediate("server.info", summary: "Version, runtimes, limits") { [unowned self] _ in info() },
            .immediate("server.stats", summary: "Connections, requests, errors, per-method counts and latency") { [unowned self] _ in statsJSON() },
            .immediate("rpc.discover", summary: "The OpenRPC document of every method") { [unowned self] _ in discover() },
        ]
    }

    private func info() -> JSONValue {
        var object: JSONObject = [
            "name": "rkllm-server",
            "version": .string(version),
            "pid": .int(Int64(getpid())),
            "socket": .string(configuration.socketPath),
            "limits": .object([
                "max_connections": .int(Int64(configuration.maxConnections)),
                "max_message_bytes": .int(Int64(configuration.maxMessageBytes)),
                "max_output_bytes": .int(Int64(configuration.maxOutputBytes)),
                "run_timeout_s": .double(configuration.runTimeout),
                "shutdown_timeout_s": .double(configuration.shutdownTimeout),
            ]),
        ]
        for provider in infoProviders {
            let (key, value) = provider()
            object[key] = value
        }
        return .object(object)
    }

    private func statsJSON() -> JSONValue {
        let perMethod = JSONObject(methods.keys.sorted().compactMap { name in
            methods[name].flatMap { $0.stats.calls > 0 ? (name, $0.stats.json) : nil }
        })
        var object: JSONObject = [
            "uptime_s": .double(Double(EventLoop.now() - stats.started) / 1e9),
            "connections": .object([
                "open": .int(Int64(connections.count)),
                "accepted": .int(Int64(stats.connectionsAccepted)),
                "rejected": .int(Int64(stats.connectionsRejected)),
                "dropped_slow_readers": .int(Int64(stats.clientsDroppedForSlowReading)),
            ]),
            "requests": .int(Int64(stats.requests)),
            "notifications": .int(Int64(stats.notifications)),
            "errors": .int(Int64(stats.errors)),
            "parse_errors": .int(Int64(stats.parseErrors)),
            "overlong_lines": .int(Int64(stats.overlongLines)),
            "methods": .object(perMethod),
        ]
        for provider in statsProviders {
            let (key, value) = provider()
            object[key] = value
        }
        return .object(object)
    }

    private func discover() -> JSONValue {
        var document: JSONObject = [
            "openrpc": "1.2.6",
            "info": .object(["title": "rkllm-server", "version": .string(version)]),
            "methods": .array(methodOrder.compactMap { methods[$0]?.method.description }),
        ]
        if let openRPCComponents { document["components"] = openRPCComponents }
        return .object(document)
    }
}

/// The listening socket's readiness: accept everything pending.
private final class ListenerHandler: EventHandler {
    unowned let server: Server
    init(server: Server) { self.server = server }
    func handleEvents(_ events: UInt32) { server.accept() }
}
