import BindingRuntime
import Glibc
import RPCServer

/// One request and its response, on the loop thread. A response is whole (`respond`) or streamed
/// (`startStream`, `send`, `finish`: chunked, or to the connection's end for an HTTP/1.0 client).
/// Calls made through it are the client's; when the client goes, `onClose` runs (a dialect stops
/// what it started) and nothing more is written.
public final class HTTPExchange {
    /// nil for a response to bytes that were no request (a parse error, a timeout).
    public let request: HTTPRequest?
    private weak var connection: HTTPConnection?
    private var streaming = false
    private var chunked = false
    public private(set) var done = false
    private var closeHandlers: [() -> Void] = []

    init(request: HTTPRequest?, connection: HTTPConnection) {
        self.request = request
        self.connection = connection
    }

    /// The HTTP client's connection id among the server's clients.
    public var client: UInt64 { connection?.id ?? 0 }
    public var isGone: Bool { connection == nil || connection?.closed == true }

    /// Runs when the client goes before the response is complete.
    public func onClose(_ handler: @escaping () -> Void) { closeHandlers.append(handler) }

    // MARK: responding

    public func respond(
        status: Int, contentType: String = "application/json", headers: [(String, String)] = [], body: [UInt8]
    ) {
        guard !done, !streaming, let connection else { return }
        var head = statusLine(status) + "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        head += headerLines(headers) + keepAliveLine() + "\r\n"
        var bytes = Array(head.utf8)
        if request?.method != "HEAD" { bytes += body }
        connection.write(bytes)
        complete()
    }

    public func respond(status: Int, json: JSONValue, headers: [(String, String)] = []) {
        respond(status: status, headers: headers, body: Array(json.jsonText.utf8))
    }

    /// Starts a streamed response: its pieces follow with `send`.
    public func startStream(status: Int, contentType: String, headers: [(String, String)] = []) {
        guard !done, !streaming, let connection else { return }
        streaming = true
        chunked = (request?.minorVersion ?? 1) >= 1
        var head = statusLine(status) + "Content-Type: \(contentType)\r\nCache-Control: no-cache\r\n"
        head += headerLines(headers)
        head += chunked ? "Transfer-Encoding: chunked\r\n" + keepAliveLine() : "Connection: close\r\n"
        connection.write(Array((head + "\r\n").utf8))
    }

    /// One piece of a streamed response.
    public func send(_ text: String) {
        guard streaming, !done, let connection, !text.isEmpty else { return }
        let bytes = Array(text.utf8)
        connection.write(
            chunked ? Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + [0x0D, 0x0A] : bytes)
    }

    /// Ends a streamed response.
    public func finish() {
        guard streaming, !done else { return }
        if chunked { connection?.write(Array("0\r\n\r\n".utf8)) } else { connection?.closeWhenDone() }
        complete()
    }

    private func complete() {
        done = true
        closeHandlers = []
        connection?.finished(self)
    }

    func connectionClosed() {
        guard !done else { return }
        done = true
        let handlers = closeHandlers
        closeHandlers = []
        handlers.forEach { $0() }
    }

    private func statusLine(_ status: Int) -> String {
        "HTTP/1.\(request?.minorVersion ?? 1) \(status) \(HTTPFront.reason(status))\r\nServer: rkllm-server\r\n"
    }

    private func headerLines(_ headers: [(String, String)]) -> String {
        headers.map { "\($0.0): \($0.1)\r\n" }.joined()
    }

    private func keepAliveLine() -> String {
        request?.keepAlive == true
            ? (request?.minorVersion == 0 ? "Connection: keep-alive\r\n" : "") : "Connection: close\r\n"
    }

    // MARK: calling methods

    /// Calls a method as this client: `messages` gets its stream messages, `answer` its answer
    /// (neither once the client has gone). Its request id (for `$/cancelRequest`).
    @discardableResult
    public func call(
        _ method: String, _ params: JSONValue?, messages: @escaping (JSONValue) -> Void = { _ in },
        answer: @escaping (Result<JSONValue, RPCError>) -> Void
    ) -> Int64 {
        guard let connection, !connection.closed else { return 0 }
        let id = connection.takeCallID()
        connection.front.server.call(
            method, params, connection: connection.id, peer: connection.front.peer, id: id, messages: messages,
            answer: answer)
        return id
    }
}
