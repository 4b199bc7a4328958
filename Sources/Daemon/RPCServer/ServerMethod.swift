import BindingRuntime
import Glibc

/// Who is on the other end of a connection (`SO_PEERCRED`).
public struct Peer: Sendable, Equatable {
    public let pid: pid_t
    public let uid: uid_t
    public let gid: gid_t

    public init(pid: pid_t, uid: uid_t, gid: gid_t) {
        (self.pid, self.uid, self.gid) = (pid, uid, gid)
    }
}

/// One method the server answers: its name, its OpenRPC method object for `rpc.discover`, and how
/// it answers. Nothing may block: it runs on the event loop.
public struct ServerMethod: Sendable {
    public enum Handler: Sendable {
        /// Answered at once, on the loop, from the request alone.
        case immediate(@Sendable (Request) throws -> JSONValue)
        /// Answered later through the `Call` (exactly once, from any thread): long work goes to a
        /// host and answers when done.
        case deferred(@Sendable (Call) -> Void)
    }

    public let name: String
    public let description: JSONValue
    public let handler: Handler
    /// How many file descriptors a request of this method takes (sent with it, SCM_RIGHTS). A
    /// request of a method that takes none is refused when it brings some.
    public let fileDescriptors: Int

    public init(
        name: String, description: JSONValue, fileDescriptors: Int = 0, handler: @escaping @Sendable (Call) -> Void
    ) {
        self.name = name
        self.description = description
        self.handler = .deferred(handler)
        self.fileDescriptors = fileDescriptors
    }

    public init(name: String, description: JSONValue, answer: @escaping @Sendable (Request) throws -> JSONValue) {
        self.name = name
        self.description = description
        self.handler = .immediate(answer)
        fileDescriptors = 0
    }

    /// A method answered at once, with a minimal OpenRPC description.
    public static func immediate(
        _ name: String, summary: String, result: JSONValue = ["type": "object"],
        _ body: @escaping @Sendable (Request) throws -> JSONValue
    ) -> ServerMethod {
        ServerMethod(name: name, description: describe(name, summary: summary, result: result), answer: body)
    }

    /// The OpenRPC description of a method without parameters.
    public static func describe(_ name: String, summary: String, result: JSONValue = ["type": "object"]) -> JSONValue {
        .object([
            "name": .string(name), "summary": .string(summary), "paramStructure": "either",
            "params": .array([]), "result": .object(["name": "result", "schema": result]),
        ])
    }
}

/// A message of a stream: a value, or a text written elsewhere.
enum StreamMessage {
    case value(JSONValue)
    case text(JSONText)

    var value: JSONValue {
        switch self {
        case .value(let value): value
        case .text(let text): text.value ?? .null
        }
    }
}

/// A request being answered. `respond` may be called from any thread, once (later answers are
/// ignored); `emit` sends stream messages before it. Both hop to the loop thread, which alone
/// touches the call's state.
public final class Call: @unchecked Sendable {
    public let request: Request
    public let connection: UInt64
    public let peer: Peer
    /// When the request was read (the loop iteration's time), for the per-method latency.
    let started: UInt64
    private let server: Server
    let slot: MethodSlot
    let batch: Server.Batch?
    /// Where the messages and the answer of a call from another front go (instead of a socket).
    let sink: CallSink?
    @LoopBound var answered = false

    init(
        request: Request, connection: UInt64, peer: Peer, server: Server, slot: MethodSlot, batch: Server.Batch?,
        sink: CallSink? = nil
    ) {
        self.request = request
        self.connection = connection
        self.peer = peer
        self.server = server
        self.slot = slot
        self.batch = batch
        self.sink = sink
        started = server.loop.iterationStarted
    }

    public var params: JSONValue? { request.params }

    /// Whether its answer went out (loop thread only).
    public var isAnswered: Bool { answered }

    /// The next file descriptor the client sent (SCM_RIGHTS) with this request's line: a client
    /// sends each descriptor with the request that uses it, in parameter order. Only in the handler,
    /// on the loop thread. The caller owns (and must close or pass on) what it takes.
    public func takeFileDescriptor() -> Int32? {
        precondition(server.loop.inLoopThread, "takeFileDescriptor outside the handler")
        return server.connection(self.connection)?.takeFileDescriptor()
    }

    /// One message of a stream, before the final answer: a response-shaped message with the
    /// request's id (nothing for a notification). `fds` go with it; the server closes its copies.
    public func emit(_ result: JSONValue, fds: [Int32] = []) { emit(.value(result), fds: fds) }

    /// A stream message whose text came from elsewhere (a runtime host's callback): a socket
    /// client gets it as it is, without the daemon reading it.
    public func emit(text: JSONText) { emit(.text(text), fds: []) }

    private func emit(_ message: StreamMessage, fds: [Int32]) {
        if server.loop.inLoopThread {
            server.emit(self, message, fds: fds)
        } else {
            server.loop.execute { [self] in server.emit(self, message, fds: fds) }
        }
    }

    /// The answer; `fds` go with it (SCM_RIGHTS) and the server closes its copies.
    public func respond(_ outcome: Result<JSONValue, RPCError>, fds: [Int32] = []) {
        if server.loop.inLoopThread {
            server.complete(self, outcome, fds: fds)
        } else {
            server.loop.execute { [self] in server.complete(self, outcome, fds: fds) }
        }
    }
}
