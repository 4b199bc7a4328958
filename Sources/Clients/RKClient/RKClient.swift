import BindingRuntime
import CLinux
import Foundation
import Wire

/// A connection to rkllm-server, shared safely by any number of tasks: each call awaits its own
/// answer, a stream is an `AsyncThrowingStream` of its messages whose cancellation cancels the
/// request (`$/cancelRequest`). Errors are `RPCError` (code, message, data: the parameter at fault,
/// a runtime's code, name and meaning). The connection ends with `close()` or when the client goes.
public final class RKClient: Sendable {
    /// The daemon's socket: $RKLLM_UDS_PATH, else the system service's when it exists (the
    /// systemd socket unit's /run/rkllm-server.sock), else /tmp/rkllm.sock (the daemon's own default).
    public static var defaultSocket: String {
        if let path = ProcessInfo.processInfo.environment["RKLLM_UDS_PATH"], !path.isEmpty { return path }
        let system = "/run/rkllm-server.sock"
        return FileManager.default.fileExists(atPath: system) ? system : "/tmp/rkllm.sock"
    }

    private let connection: Connection

    /// Throws `ConnectionFailure` when no daemon listens there or the socket is not this user's to use.
    public init(socket: String = RKClient.defaultSocket) throws { connection = try Connection(socket: socket) }

    deinit { connection.close() }

    /// Ends the connection: what still waits gets an error; the daemon releases what it held.
    public func close() { connection.close() }

    /// The result of `method` (`params`: an array by position or an object by name). While a
    /// model loads, the daemon says so every second: `loading` gets each `_loading` message.
    public func call(
        _ method: String, _ params: JSONValue? = nil, fileDescriptors: [Int32] = [],
        loading: (@Sendable (JSONValue) -> Void)? = nil
    ) async throws -> JSONValue {
        try await connection.call(method, params, fileDescriptors: fileDescriptors, loading: loading)
    }

    /// `call` with the parameters an Encodable value gives: a generated struct (keyed by its C
    /// field names), an array or a dictionary of them.
    public func call<Params: Encodable>(_ method: String, encoding params: Params) async throws -> JSONValue {
        try await call(method, try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(params)))
    }

    /// A streaming call's messages, the last one (with `_ended`) included; its place in a queue
    /// (`_queue_position`) is left out. Cancelling the consuming task cancels the request.
    public func stream(_ method: String, _ params: JSONValue? = nil) -> AsyncThrowingStream<JSONValue, Error> {
        connection.stream(method, params)
    }

    /// The oldest descriptor that came with an answer (`rknn.create_mem`'s); the caller closes it.
    public func takeFileDescriptor() -> Int32? { connection.takeFileDescriptor() }
}

/// The socket and its reader thread, which holds the connection until the socket ends (so a
/// client that goes first does not leave the thread with nothing): it routes every message to its
/// request, and at the end fails what still waits and closes the socket.
private final class Connection: @unchecked Sendable {
    private let fd: Int32
    private let lock = NSLock()
    private let writeLock = NSLock()
    private var nextID: Int64 = 0
    private var waiting: [Int64: Route] = [:]
    private var descriptors: [Int32] = []
    private var ended: RPCError?
    /// The socket is open (the reader closes it at the end, under both locks: nothing else uses
    /// its number after).
    private var open = true

    /// Where a message of a request goes: the answer of a call, or the messages of a stream.
    private enum Route {
        case call(CheckedContinuation<JSONValue, Error>, loading: (@Sendable (JSONValue) -> Void)?)
        case stream(AsyncThrowingStream<JSONValue, Error>.Continuation)
    }

    init(socket: String) throws {
        do {
            fd = try UnixSocket.connect(socket)
        } catch let error as SystemError {
            throw ConnectionFailure(socket: socket, code: error.code)
        }
        let thread = Thread { [self] in readUntilClosed() }
        thread.name = "RKClient reader"
        thread.start()
    }

    func close() {
        // The reader sees the end, fails what waits and closes the socket.
        lock.withLock { if open { shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    func call(
        _ method: String, _ params: JSONValue?, fileDescriptors: [Int32], loading: (@Sendable (JSONValue) -> Void)?
    ) async throws -> JSONValue {
        try await withCheckedThrowingContinuation { continuation in
            send(method, params, fileDescriptors: fileDescriptors, route: .call(continuation, loading: loading))
        }
    }

    func stream(_ method: String, _ params: JSONValue?) -> AsyncThrowingStream<JSONValue, Error> {
        AsyncThrowingStream { continuation in
            guard let id = send(method, params, fileDescriptors: [], route: .stream(continuation)) else { return }
            continuation.onTermination = { [weak self] termination in
                guard case .cancelled = termination, let self else { return }
                guard lock.withLock({ waiting.removeValue(forKey: id) }) != nil else { return }
                try? notify("$/cancelRequest", ["id": .int(id)])
            }
        }
    }

    func takeFileDescriptor() -> Int32? {
        lock.withLock { descriptors.isEmpty ? nil : descriptors.removeFirst() }
    }

    // MARK: writing

    /// Sends a request whose messages go to `route`; its id, or nil when it could not be sent
    /// (then `route` has its error: whoever takes a route from `waiting` answers it, once).
    @discardableResult
    private func send(_ method: String, _ params: JSONValue?, fileDescriptors: [Int32], route: Route) -> Int64? {
        let registered: Result<Int64, RPCError> = lock.withLock {
            if let ended { return .failure(ended) }
            nextID += 1
            waiting[nextID] = route
            return .success(nextID)
        }
        guard case .success(let id) = registered else {
            if case .failure(let error) = registered { Self.fail(route, error) }
            return nil
        }
        var request: JSONObject = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method)]
        if let params { request["params"] = params }
        do {
            try write(.object(request), fileDescriptors: fileDescriptors)
        } catch {
            // The reader may have failed it already, at the connection's end.
            if let route = lock.withLock({ waiting.removeValue(forKey: id) }) { Self.fail(route, error) }
            return nil
        }
        return id
    }

    private static func fail(_ route: Route, _ error: Error) {
        switch route {
        case .call(let continuation, _): continuation.resume(throwing: error)
        case .stream(let continuation): continuation.finish(throwing: error)
        }
    }

    private func notify(_ method: String, _ params: JSONValue) throws {
        try write(["jsonrpc": "2.0", "method": .string(method), "params": params], fileDescriptors: [])
    }

    private func write(_ message: JSONValue, fileDescriptors: [Int32]) throws {
        let bytes = Array((message.jsonText + "\n").utf8)
        try writeLock.withLock {
            guard lock.withLock({ open }) else {
                throw RPCError(code: RPCError.Code.shuttingDown, message: "the connection to rkllm-server is closed")
            }
            var sent = 0
            if !fileDescriptors.isEmpty {
                let n = bytes.withUnsafeBytes { raw in
                    fileDescriptors.withUnsafeBufferPointer {
                        clinux_send_with_fds(fd, raw.baseAddress, raw.count, $0.baseAddress, Int32($0.count))
                    }
                }
                guard n > 0 else { throw Self.failure("sendmsg") }
                sent = n
            }
            while sent < bytes.count {
                let n = bytes.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
                }
                guard n > 0 else { throw Self.failure("send") }
                sent += n
            }
        }
    }

    // MARK: reading (the reader thread)

    private func readUntilClosed() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        // The daemon's answers can carry whole tensors: bounded only to keep the framer's sum sane.
        var framer = LineFramer(maxLineBytes: 1 << 30)
        var received: [Int32] = []
        while true {
            let (n, _) = UnixSocket.receive(fd, into: buffer, fds: &received)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            if !received.isEmpty {
                lock.withLock { descriptors += received }
                received.removeAll()
            }
            framer.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) { event in
                if case .line(let line) = event, let message = try? JSONParser.parse(line) { deliver(message) }
            }
        }
        finishAll(RPCError(code: RPCError.Code.shuttingDown, message: "the connection to rkllm-server ended"))
        writeLock.withLock {
            lock.withLock {
                open = false
                Glibc.close(fd)
            }
        }
    }

    private func deliver(_ message: JSONValue) {
        guard case .int(let id)? = message["id"] else { return }
        let error = Self.error(message["error"])
        let result = message["result"] ?? .null
        // A call's progress and a stream's queue place are not what its caller waits for.
        let progress =
            error == nil && (result[StreamMember.loading] != nil || result[StreamMember.queuePosition] != nil)
        let route: Route? = lock.withLock {
            guard let route = waiting[id] else { return nil }
            if progress { return route }
            if case .stream = route, error == nil, result[StreamMember.ended] == nil { return route }
            return waiting.removeValue(forKey: id)
        }
        if progress {
            if case .call(_, let loading?)? = route, result[StreamMember.loading] != nil { loading(result) }
            return
        }
        switch route {
        case .call(let continuation, _)?:
            if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: result) }
        case .stream(let continuation)?:
            if let error { return continuation.finish(throwing: error) }
            continuation.yield(result)
            if result[StreamMember.ended] != nil { continuation.finish() }
        case nil:
            break
        }
    }

    private func finishAll(_ error: RPCError) {
        let routes = lock.withLock {
            ended = error
            defer { waiting.removeAll() }
            return Array(waiting.values)
        }
        for route in routes { Self.fail(route, error) }
        lock.withLock { descriptors.forEach { Glibc.close($0) } }
    }

    private static func error(_ value: JSONValue?) -> RPCError? {
        guard let value else { return nil }
        guard case .int(let code)? = value["code"], case .string(let message)? = value["message"] else {
            return RPCError(code: RPCError.Code.internalError, message: "a malformed error: \(value.jsonText)")
        }
        return RPCError(code: Int(code), message: message, data: value["data"])
    }

    private static func failure(_ what: String) -> RPCError {
        RPCError(code: RPCError.Code.shuttingDown, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
