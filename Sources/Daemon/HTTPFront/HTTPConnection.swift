import BindingRuntime
import CLinux
import Glibc
import RPCServer

/// One HTTP client connection, owned by the loop thread: reads requests one at a time (the next
/// waits in the parser until the response to this one is out: pipelining in order), writes the
/// response through a bounded queue, closes on a bad request, at a timeout, or when the client
/// goes. The client is a front connection of the server: what its requests hold is released when
/// it goes, and a generation it was streaming stops.
final class HTTPConnection: EventHandler {
    let id: UInt64
    let fd: Int32
    unowned let front: HTTPFront
    private var parser: HTTPRequestParser
    private var output: OutputQueue
    private var waitingForWritable = false
    /// The request being answered.
    private(set) var exchange: HTTPExchange?
    /// Close once the response in progress is out.
    private var closeAfterResponse = false
    private var timer: Int?
    private(set) var closed = false
    private var lastCallID: Int64 = 0

    init(id: UInt64, fd: Int32, front: HTTPFront) {
        self.id = id
        self.fd = fd
        self.front = front
        let configuration = front.server.configuration
        parser = HTTPRequestParser(maxBodyBytes: configuration.maxMessageBytes)
        output = OutputQueue(limit: configuration.maxOutputBytes)
        armTimer()
    }

    deinit { if !closed { Glibc.close(fd) } }

    /// An id for a method call of this client (ids of one client differ, as a socket client's must).
    func takeCallID() -> Int64 {
        lastCallID += 1
        return lastCallID
    }

    static let readEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue

    func handleEvents(_ events: UInt32) {
        if events & EPOLLOUT.rawValue != 0 { flush() }
        if !closed && events & (Self.readEvents | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { readAvailable() }
    }

    private func readAvailable() {
        // While a response is in progress, bytes of the next request wait in the parser, up to
        // one request's worth; then the socket is only watched for the client going.
        let buffer = front.server.readBuffer
        while !closed {
            if exchange != nil && parser.bufferedBytes > parser.maxHeadBytes + parser.maxBodyBytes {
                front.server.eventLoop.modify(
                    fd, events: EPOLLRDHUP.rawValue | (waitingForWritable ? EPOLLOUT.rawValue : 0))
                return
            }
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if exchange == nil { takeRequests() }
                if n < buffer.count { return }
            } else if n == 0 {
                return close(reason: "client closed")
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return
            } else {
                return close(reason: "read: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Hands the next complete request to the front, if one is there and none is being answered.
    private func takeRequests() {
        guard !closed, exchange == nil, !closeAfterResponse else { return }
        do {
            guard let request = try parser.next() else {
                armTimer()
                return
            }
            cancelTimer()
            let exchange = HTTPExchange(request: request, connection: self)
            self.exchange = exchange
            if !request.keepAlive { closeAfterResponse = true }
            front.handle(exchange)
        } catch {
            closeAfterResponse = true
            let exchange = HTTPExchange(request: nil, connection: self)
            self.exchange = exchange
            exchange.respond(status: error.status, json: HTTPFront.errorBody(error.reason))
        }
    }

    /// The exchange's response is complete: the next request, or the end.
    func finished(_ done: HTTPExchange) {
        guard exchange === done else { return }
        exchange = nil
        if closeAfterResponse {
            if output.isEmpty { close(reason: "response complete") }
            return
        }
        if !closed {
            front.server.eventLoop.modify(fd, events: Self.readEvents | (waitingForWritable ? EPOLLOUT.rawValue : 0))
        }
        takeRequests()
    }

    // MARK: writing

    /// Queues bytes of the response in progress; false when the client is gone or was dropped.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        guard !closed else { return false }
        switch output.append({ $0 += bytes }) {
        case .queued: break
        case .tooLarge, .full:
            close(reason: "the client does not read its responses (max output bytes)")
            return false
        }
        flush()
        return !closed
    }

    private func flush() {
        guard !closed else { return }
        switch output.flush(to: fd) {
        case .done:
            if waitingForWritable {
                waitingForWritable = false
                front.server.eventLoop.modify(fd, events: Self.readEvents)
            }
            if closeAfterResponse && exchange == nil { close(reason: "response complete") }
        case .wouldBlock:
            if !waitingForWritable {
                waitingForWritable = true
                front.server.eventLoop.modify(fd, events: Self.readEvents | EPOLLOUT.rawValue)
            }
        case .failed(let code):
            close(reason: "write: \(String(cString: strerror(code)))")
        }
    }

    // MARK: timers and closing

    /// `--http-timeout` from now: a connection with no request is closed, one with a request
    /// begun gets 408.
    private func armTimer() {
        cancelTimer()
        timer = front.server.eventLoop.schedule(after: front.server.configuration.httpTimeout) { [weak self] in
            guard let self, !closed, exchange == nil else { return }
            timer = nil
            if parser.isMidRequest {
                closeAfterResponse = true
                let exchange = HTTPExchange(request: nil, connection: self)
                self.exchange = exchange
                exchange.respond(status: 408, json: HTTPFront.errorBody("the request did not arrive in time"))
            } else {
                close(reason: "idle")
            }
        }
    }

    private func cancelTimer() {
        if let timer { front.server.eventLoop.cancelTimer(timer) }
        timer = nil
    }

    /// After the response in progress (if any), no further request is read.
    func closeWhenDone() {
        closeAfterResponse = true
        if exchange == nil && output.isEmpty { close(reason: "server shutting down") }
    }

    func close(reason: String) {
        guard !closed else { return }
        closed = true
        cancelTimer()
        front.server.eventLoop.unregister(fd)
        Glibc.close(fd)
        output.discard()
        let exchange = self.exchange
        self.exchange = nil
        exchange?.connectionClosed()
        front.connectionClosed(self, reason: reason)
    }
}
