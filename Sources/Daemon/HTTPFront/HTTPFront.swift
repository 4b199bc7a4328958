import BindingRuntime
import CLinux
import Glibc
import RPCServer

/// What an HTTP dialect answers: a method and a path (`GET /api/tags`), or every path under a
/// prefix, and the handler that answers it on the loop thread.
public struct HTTPRoute {
    public let method: String
    public let path: String
    public let handle: (HTTPExchange) -> Void

    public init(_ method: String, _ path: String, _ handle: @escaping (HTTPExchange) -> Void) {
        self.method = method
        self.path = path
        self.handle = handle
    }
}

/// The daemon's HTTP/1.1 front, on the server's event loop: accepts connections (up to
/// `--http-max-connections`, apart from the socket's), checks the bearer token on each request's
/// head before its body is read, and routes each request to the dialects' routes, which answer by
/// calling the server's methods as that client. Connections that have not yet sent an accepted
/// request are few (`--http-max-unauthenticated`: past it the oldest goes), so that idle or slow
/// TCP clients cannot hold the daemon's descriptors.
public final class HTTPFront: EventHandler {
    public let server: Server
    private let listener: TCPListener
    private let token: String?
    private var routes: [String: HTTPRoute] = [:]
    private var connections: [UInt64: HTTPConnection] = [:]
    /// Connections without an accepted request yet, oldest first.
    private var unproven: [UInt64] = []
    /// HTTP clients act with the daemon's own identity: no peer credentials cross TCP.
    let peer = Peer(pid: 0, uid: getuid(), gid: getgid())
    private var accepting = true

    /// The address bound (its port when 0 was asked).
    public var address: String { listener.address }

    public init(server: Server, address: String, token: String?, routes: [HTTPRoute]) throws {
        self.server = server
        self.token = token
        listener = try TCPListener(address)
        for route in routes { self.routes[route.method + " " + route.path] = route }
    }

    /// Starts accepting (before or on the loop thread); stops at the server's shutdown.
    public func start() throws {
        try server.eventLoop.register(listener.fd, events: EPOLLIN.rawValue, handler: self)
        server.addReaders { [unowned self] in
            guard let largest = connections.values.max(by: { $0.pendingOutputBytes < $1.pendingOutputBytes }) else {
                return nil
            }
            let limit = server.configuration.maxBufferedOutputBytes
            return Server.FrontReader(unread: largest.pendingOutputBytes) {
                largest.dropForSlowReading(limit: "max_buffered_output", limit)
            }
        }
        server.onShutdown { [unowned self] in stop() }
        server.logger.info("HTTP on \(listener.address)" + (token == nil ? "" : " (bearer token required)"))
        if token == nil && listener.reachableFromOtherHosts {
            server.logger.warn(
                "HTTP on \(listener.address) without a token: every host that reaches it may use the NPU and the models; "
                    + "set --http-token (RKLLM_HTTP_TOKEN) or listen on 127.0.0.1")
        }
    }

    private func stop() {
        guard accepting else { return }
        accepting = false
        server.descriptorShortage.forget(listener.fd)
        server.eventLoop.unregister(listener.fd)
        close(listener.fd)
        for connection in Array(connections.values) { connection.closeWhenDone() }
    }

    deinit { if accepting { close(listener.fd) } }

    public func handleEvents(_ events: UInt32) {
        while accepting {
            let fd = clinux_accept_nonblocking(listener.fd)
            if fd < 0 {
                if errno == EINTR { continue }
                if DescriptorShortage.isShortage(errno) {
                    let next = server.descriptorShortage.handle(listener: listener.fd, open: server.openConnections) {
                        Self.refuse($0, "the server is out of file descriptors")
                    }
                    if next == .acceptAgain { continue }
                } else if errno != EAGAIN && errno != EWOULDBLOCK {
                    server.logger.warn("HTTP accept: \(String(cString: strerror(errno)))")
                }
                return
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let limit = server.configuration.httpMaxConnections
            guard let id = server.openFrontConnection(limit: limit) else {
                Self.refuse(fd, "too many HTTP connections (limit \(limit))")
                continue
            }
            let connection = HTTPConnection(id: id, fd: fd, front: self)
            do {
                try server.eventLoop.register(fd, events: HTTPConnection.readEvents, handler: connection)
            } catch {
                close(fd)
                server.closeFrontConnection(id, reason: "register: \(error)")
                continue
            }
            connections[id] = connection
            server.logger.debug("HTTP client connected", connection: id)
            unproven.append(id)
            if unproven.count > server.configuration.httpMaxUnauthenticated {
                connections[unproven[0]]?.close(reason: "the oldest of more than --http-max-unauthenticated")
            }
        }
    }

    /// A connection that cannot be served: a 503 saying why, to try again in a second, then closed.
    private static func refuse(_ fd: Int32, _ why: String) {
        let body = errorBody(why).jsonText
        let response =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Retry-After: 1\r\nConnection: close\r\n\r\n\(body)"
        _ = Array(response.utf8).withUnsafeBytes {
            send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        close(fd)
    }

    func connectionClosed(_ connection: HTTPConnection, reason: String) {
        connections[connection.id] = nil
        unproven.removeAll { $0 == connection.id }
        server.closeFrontConnection(connection.id, reason: reason)
    }

    /// A request's head, before its body is read: the token (401 without it), then the room its
    /// body needs among what all clients buffer (503 past `--max-buffered-input`). The first head
    /// admitted makes its connection a proven one.
    func admit(_ head: HTTPRequest, declaredBodyBytes: Int?, from connection: HTTPConnection) throws(HTTPParseError) {
        // Two could be read two ways (the first here, the other by a proxy in front): neither is.
        guard head.headers.count(where: { $0.name == "authorization" }) <= 1 else {
            throw HTTPParseError(400, "more than one Authorization header")
        }
        if let token, head.header("authorization") != "Bearer \(token)" {
            throw HTTPParseError(
                401, "a bearer token is required",
                fields: [HTTPParseError.Field(name: "WWW-Authenticate", value: "Bearer")])
        }
        let buffered = server.buffered
        if let declared = declaredBodyBytes, declared > buffered.maxInput - buffered.input {
            throw HTTPParseError.overBudget(buffered.maxInput)
        }
        unproven.removeAll { $0 == connection.id }
    }

    /// A request: its route (404 for an unknown path, 405 for a known one with another method).
    func handle(_ exchange: HTTPExchange) {
        guard let request = exchange.request else { return }
        let path = String(request.path)
        let method = request.method == "HEAD" ? "GET" : request.method
        if let route = routes[method + " " + path] { return route.handle(exchange) }
        if routes.values.contains(where: { $0.path == path }) {
            return exchange.respond(status: 405, json: Self.errorBody("\(request.method) is not served on \(path)"))
        }
        exchange.respond(status: 404, json: Self.errorBody("nothing is served on \(path)"))
    }

    /// The error body of the front itself (the dialects shape theirs).
    static func errorBody(_ message: String) -> JSONValue { ["error": .string(message)] }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 413: "Content Too Large"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status"
        }
    }
}
