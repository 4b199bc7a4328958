import BindingRuntime
import Glibc
import RPCServer

/// One request and its response, on the loop thread. A response is whole (`respond`) or streamed
/// (`startStream`, `send`, `finish`: chunked, or to the connection's end for an HTTP/1.0 client),
/// its bytes written straight into the connection's queue. Calls made through it are the client's;
/// once the client has gone nothing more is written.
public final class HTTPExchange {
    /// nil for a response to bytes that were no request (a parse error, a timeout).
    public let request: HTTPRequest?
    private weak var connection: HTTPConnection?
    private var streaming = false
    private var chunked = false
    public private(set) var done = false

    init(request: HTTPRequest?, connection: HTTPConnection) {
        self.request = request
        self.connection = connection
    }

    /// The HTTP client's connection id among the server's clients.
    public var client: UInt64 { connection?.id ?? 0 }

    // MARK: responding

    public func respond(
        status: Int, contentType: String = "application/json", headers: [(String, String)] = [], body: [UInt8]
    ) {
        guard !done, !streaming, let connection else { return }
        var head = statusLine(status) + "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        head += headerLines(headers) + keepAliveLine() + "\r\n"
        let withBody = request?.method != "HEAD"
        connection.write { out in
            out += head.utf8
            if withBody { out += body }
        }
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
        connection.write { $0 += (head + "\r\n").utf8 }
    }

    /// One piece of a streamed response (a chunk of its own when chunked).
    public func send(_ text: String) {
        guard streaming, !done, let connection, !text.isEmpty else { return }
        let chunked = self.chunked
        connection.write { out in
            if chunked {
                out += String(text.utf8.count, radix: 16).utf8
                out += [0x0D, 0x0A]
            }
            out += text.utf8
            if chunked { out += [0x0D, 0x0A] }
        }
    }

    /// Ends a streamed response.
    public func finish() {
        guard streaming, !done else { return }
        if chunked { connection?.write { $0 += "0\r\n\r\n".utf8 } } else { connection?.closeWhenDone() }
        complete()
    }

    private func complete() {
        done = true
        connection?.finished(self)
    }

    /// The client went before the response was complete: nothing more is written.
    func connectionClosed() { done = true }

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
