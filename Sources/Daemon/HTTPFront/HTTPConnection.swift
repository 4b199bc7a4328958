import BindingRuntime
import CLinux
import Glibc
import RPCServer

/// One HTTP client connection, owned by the loop thread: reads requests one at a time (the next
/// waits in the parser until the response to this one is out: pipelining in order), writes the
/// response through the bounded queue every client's socket has (written with the others' at the
/// end of the loop iteration, `QueuedSocket`), closes on a bad request, at a deadline, or when the
/// client goes. The client is a front connection of the server: what its requests hold is released when
/// it goes, and a generation it was streaming stops. What it buffers, both ways, counts toward
/// the server's overall caps with the socket clients'.
final class HTTPConnection: QueuedSocket, EventHandler {
    let id: UInt64
    unowned let front: HTTPFront
    private var parser: HTTPRequestParser
    /// Reading paused: a head's worth of the next requests waits in the parser (readAvailable).
    private var readPaused = false
    /// The request being answered.
    private(set) var exchange: HTTPExchange?
    /// Close once the response in progress is out.
    private var closeAfterResponse = false
    /// A refused request: before the close, what the client still sends is read and dropped.
    private var lingerAfterResponse = false
    private var lingering = false
    private var discarded = 0
    private var deadline: (phase: HTTPRequestParser.Phase, timer: Int)?
    private(set) var closed = false
    private var lastCallID: Int64 = 0
    /// This connection's share of the server's buffered totals, as last counted.
    private var countedInput = 0
    private var countedOutput = 0

    init(id: UInt64, fd: Int32, front: HTTPFront) {
        self.id = id
        self.front = front
        let configuration = front.server.configuration
        parser = HTTPRequestParser(maxBodyBytes: configuration.maxMessageBytes)
        super.init(fd: fd, maxOutputBytes: configuration.maxOutputBytes)
        updateDeadline()
    }

    deinit { if !closed { Glibc.close(fd) } }

    /// An id for a method call of this client (ids of one client differ, as a socket client's must).
    func takeCallID() -> Int64 {
        lastCallID += 1
        return lastCallID
    }

    static let readEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue

    func handleEvents(_ events: UInt32) {
        if events & EPOLLOUT.rawValue != 0 { flushQueued() }
        // A client that shuts its side is gone, as when a read finds the end (and a paused read
        // would be woken for it again and again).
        if !closed && readPaused && events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            return close(reason: "client closed")
        }
        if !closed && events & (Self.readEvents | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { readAvailable() }
    }

    private func readAvailable() {
        let buffer = front.server.readBuffer
        if lingering { return discardAvailable(into: buffer) }
        // Bounded per wake-up, as the socket's clients are: what is left wakes the loop again.
        for _ in 0..<4 where !closed {
            // Past a head's worth of bytes, only the body of the request being read is read on:
            // the next requests wait in the socket (while a response is under way or unwritten, or
            // while pipelined ones wait their turn), and it is only watched for the client going.
            if parser.bufferedBytes > parser.maxHeadBytes && (isBusy || parser.phase != .body) {
                return pauseReading()
            }
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                countInput()
                if !isBusy { takeRequests() }
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

    /// A request is being answered, or its response is not all written: the next one waits.
    private var isBusy: Bool { exchange != nil || !output.isEmpty }

    private func pauseReading() {
        readPaused = true
        watch()
    }

    /// The events to wait for: reading unless paused, writing while bytes wait.
    private func watch() {
        guard !closed else { return }
        front.server.eventLoop.modify(fd, events: readingEvents | (waitingForWritable ? EPOLLOUT.rawValue : 0))
    }

    private var readingEvents: UInt32 { readPaused ? EPOLLRDHUP.rawValue : Self.readEvents }

    /// Hands the next complete request to the front, if one is there and none is being answered.
    private func takeRequests() {
        guard !closed, !isBusy, !closeAfterResponse else { return }
        do throws(HTTPParseError) {
            let next = try parser.next { head, declared throws(HTTPParseError) in
                try front.admit(head, declaredBodyBytes: declared, from: self)
            }
            countInput()
            guard let request = next else {
                if buffersPastTheCap { throw HTTPParseError.overBudget(front.server.buffered.maxInput) }
                return updateDeadline()
            }
            cancelDeadline()
            let exchange = HTTPExchange(request: request, connection: self)
            self.exchange = exchange
            if !request.keepAlive { closeAfterResponse = true }
            front.handle(exchange)
        } catch {
            refuse(error)
        }
    }

    /// Bytes buffered by every client together past `--max-buffered-input` while this one's body grows.
    private var buffersPastTheCap: Bool {
        parser.phase == .body && front.server.buffered.input > front.server.buffered.maxInput
    }

    /// A request that cannot be read, or is refused before its body: the answer, then the end.
    private func refuse(_ error: HTTPParseError) {
        cancelDeadline()
        closeAfterResponse = true
        lingerAfterResponse = true
        let exchange = HTTPExchange(request: nil, connection: self)
        self.exchange = exchange
        exchange.respond(
            status: error.status, json: HTTPFront.errorBody(error.reason),
            headers: error.fields.map { ($0.name, $0.value) })
    }

    /// The exchange's response is complete: the next request, or the end.
    func finished(_ done: HTTPExchange) {
        guard exchange === done else { return }
        exchange = nil
        if closeAfterResponse {
            if output.isEmpty { end() }
            return
        }
        resumeWhenWritten()
    }

    /// Once nothing of the last response waits: reading goes on, and a pipelined request that
    /// waits in the parser is taken at the loop's next turn, after the other clients' events (one
    /// client's pipeline never holds the loop).
    private func resumeWhenWritten() {
        guard !closed, !isBusy else { return }
        if readPaused {
            readPaused = false
            watch()
        }
        guard parser.bufferedBytes > 0 else { return updateDeadline() }
        front.server.eventLoop.schedule(after: 0) { [weak self] in self?.takeRequests() }
    }

    // MARK: writing

    /// Queues bytes of the response in progress (`write` appends them), written at the end of the
    /// loop iteration; false when the client is gone or was dropped.
    @discardableResult
    func write(_ write: (inout [UInt8]) -> Void) -> Bool {
        guard !closed else { return false }
        switch output.append(write) {
        case .queued:
            countOutput()
            let buffered = front.server.buffered
            if buffered.output > buffered.maxOutput { front.server.dropLargestReader() }
        case .tooLarge, .full:
            dropForSlowReading(limit: "max_output_bytes", output.limit)
            return false
        }
        flushSoon(on: front.server)
        return !closed
    }

    /// The client does not read its responses: counted with the socket's slow readers, and closed.
    func dropForSlowReading(limit setting: String, _ limit: Int) {
        front.server.noteSlowReader(id, unread: output.pendingBytes, limit: setting, limit)
        close(reason: "the client does not read its responses (\(setting))")
    }

    override var ringCanWrite: Bool { !closed && super.ringCanWrite }

    override func ringWrote(_ n: Int) {
        super.ringWrote(n)
        countOutput()
    }

    /// Writes what is queued; once it is all out, the next request or the end.
    override func flushQueued() {
        guard !closed else { return }
        defer { countOutput() }
        switch flush(loop: front.server.eventLoop, readEvents: readingEvents) {
        case .done:
            if closeAfterResponse && exchange == nil { return end() }
            if exchange == nil { resumeWhenWritten() }
        case .wouldBlock:
            break
        case .failed(let code):
            close(reason: "write: \(String(cString: strerror(code)))")
        }
    }

    /// This connection's part of the server's totals (its parser's bytes and the body it declared
    /// and has not sent yet; its unwritten responses).
    private func countInput() {
        let input = closed ? 0 : parser.bufferedBytes + parser.expectedBodyBytes
        front.server.buffered.input += input - countedInput
        countedInput = input
    }

    private func countOutput() {
        let pending = closed ? 0 : output.pendingBytes
        front.server.buffered.output += pending - countedOutput
        countedOutput = pending
    }

    // MARK: deadlines and closing

    /// The response is out: closed, or first lingered over when the client may still be sending
    /// the request that was refused (a close with its bytes unread would reset the connection,
    /// and the client might never see the answer).
    private func end() {
        guard lingerAfterResponse, !lingering else { return close(reason: "response complete") }
        lingering = true
        shutdown(fd, Int32(SHUT_WR))
        readPaused = false
        watch()
        front.server.eventLoop.schedule(after: Self.lingerSeconds) { [weak self] in
            self?.close(reason: "response complete (lingered)")
        }
    }

    /// How long, and over how many bytes, a refused client's rest is read and dropped.
    static let lingerSeconds = 2.0
    static let lingerBytes = 4 << 20

    private func discardAvailable(into buffer: UnsafeMutableRawBufferPointer) {
        while !closed {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                discarded += n
                if discarded > Self.lingerBytes { return close(reason: "response complete (lingered)") }
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return
            } else {
                return close(reason: "response complete")
            }
        }
    }

    /// The deadline of what the connection is waiting for, from when that began (a request's
    /// bytes arriving do not move it): `--http-timeout` for a request to start (then it is closed),
    /// for its head to be whole, then for its body (then 408). None while a request is answered.
    private func updateDeadline() {
        guard !closed, exchange == nil else { return cancelDeadline() }
        let phase = parser.phase
        if deadline?.phase == phase { return }
        cancelDeadline()
        let timer = front.server.eventLoop.schedule(after: front.server.configuration.httpTimeout) { [weak self] in
            guard let self, !closed, exchange == nil else { return }
            deadline = nil
            if phase == .idle { return close(reason: "idle") }
            let what = phase == .head ? "the request's head" : "the request's body"
            refuse(HTTPParseError(408, "\(what) did not arrive in time"))
        }
        deadline = (phase, timer)
    }

    private func cancelDeadline() {
        if let deadline { front.server.eventLoop.cancelTimer(deadline.timer) }
        deadline = nil
    }

    /// After the response in progress (if any), no further request is read.
    func closeWhenDone() {
        closeAfterResponse = true
        if exchange == nil && output.isEmpty { close(reason: "server shutting down") }
    }

    func close(reason: String) {
        guard !closed else { return }
        closed = true
        cancelDeadline()
        front.server.eventLoop.unregister(fd)
        Glibc.close(fd)
        output.discard()
        countInput()
        countOutput()
        let exchange = self.exchange
        self.exchange = nil
        exchange?.connectionClosed()
        front.connectionClosed(self, reason: reason)
    }
}

extension HTTPParseError {
    /// A body that would take the requests buffered by all clients past `--max-buffered-input`.
    static func overBudget(_ limit: Int) -> HTTPParseError {
        HTTPParseError(
            503, "the requests of all clients together would pass max_buffered_input (\(limit) bytes); try again",
            fields: [Field(name: "Retry-After", value: "1")])
    }
}
