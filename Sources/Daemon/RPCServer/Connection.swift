import BindingRuntime
import CLinux
import Foundation

/// One client socket, owned by the loop thread: reads lines, queues replies, writes them coalesced.
final class Connection: FramedSocket, EventHandler {
    let id: UInt64
    let peer: Peer
    /// The server owns its connections and outlives them (unowned(unsafe): no reference counting
    /// on every access from the request path).
    private unowned(unsafe) let server: Server
    private let buffered: BufferedBytes
    /// Requests read but not answered yet (replies still to come from handlers).
    var inFlight = 0
    /// This client's last plain request with an id, to read its next one like it by comparing
    /// bytes (the client's own: no client's line is compared with another's).
    var lastRequest = PlainRequest.Last()
    /// Descriptors belong to the request line they came with (SCM_RIGHTS attaches them to the first
    /// byte of a message: the line that byte is in). `arrivingFDs`: those of the line being read;
    /// `lineFDs`: those of the line being handled, taken by its requests; what they leave is closed.
    private var arrivingFDs: [Int32] = []
    private var lineFDs: [Int32] = []
    static let maxLineFDs = 64
    /// The client closed its sending side: answer what is in flight, then close.
    private(set) var readClosed = false
    /// What this connection has added to the server's totals of buffered bytes.
    private var countedInput = 0
    private var countedOutput = 0
    private(set) var closed = false

    init(
        id: UInt64, fd: Int32, peer: Peer, server: Server, buffered: BufferedBytes, maxMessageBytes: Int,
        maxOutputBytes: Int
    ) {
        self.id = id
        self.peer = peer
        self.server = server
        self.buffered = buffered
        super.init(fd: fd, maxLineBytes: maxMessageBytes, maxOutputBytes: maxOutputBytes)
    }

    func handleEvents(_ events: UInt32) {
        if events & EPOLLOUT.rawValue != 0 { flush() }
        let readable = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        if !closed && !readClosed && events & readable != 0 { readAvailable() }
        // Both directions gone (not a half-close): nothing more can be written.
        if !closed && events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { close(reason: "hang-up") }
    }

    /// Reads what is there (bounded per wake-up so one busy client cannot starve the others).
    private func readAvailable() {
        let server = self.server  // once, not per line
        for _ in 0..<4 {
            let outcome = read(
                into: server.readBuffer,
                descriptors: { fds, lost in
                    attach(fds)
                    if lost {
                        server.clientLog.log(
                            .warn, cause: "descriptors dropped", client: id, connection: id,
                            "descriptors beyond \(CLINUX_MAX_FDS) per message were dropped")
                    }
                },
                lines: { event in
                    switch event {
                    case .line(let line):
                        if !arrivingFDs.isEmpty {
                            lineFDs = arrivingFDs
                            arrivingFDs = []
                        }
                        server.handleLine(line, from: self)
                        if !lineFDs.isEmpty { closeLineDescriptors(unused: true) }
                    case .overlong(let bytes):
                        closeArriving()
                        server.handleOverlongLine(bytes: bytes, from: self)
                    }
                })
            switch outcome {
            case .bytes(let n, let filled):
                server.stats.bytesFromClients += n
                if closed { return }
                countInput()
                if buffered.input > buffered.maxInput && framer.bufferedBytes > 0 {
                    let dropped = framer.abandonLine()
                    countInput()
                    server.handleInputOverCap(bytes: dropped, from: self)
                    if closed { return }
                }
                if !filled { return }
            case .end:
                readClosed = true
                server.loop.modify(fd, events: waitingForWritable ? EPOLLOUT.rawValue : 0)
                closeIfDone()
                return
            case .wouldBlock:
                return
            case .failed(let code):
                close(reason: "read: \(String(cString: strerror(code)))")
                return
            }
        }
    }

    private func attach(_ fds: [Int32]) {
        for descriptor in fds {
            if arrivingFDs.count < Self.maxLineFDs {
                arrivingFDs.append(descriptor)
            } else {
                Glibc.close(descriptor)
                server.clientLog.log(
                    .warn, cause: "descriptors past the line's limit", client: id, connection: id,
                    "more than \(Self.maxLineFDs) descriptors with one line; closing the extra ones")
            }
        }
    }

    private func closeArriving() {
        arrivingFDs.forEach { Glibc.close($0) }
        arrivingFDs = []
    }

    /// Whether the line being handled brought descriptors not taken yet.
    var hasLineDescriptors: Bool { !lineFDs.isEmpty }

    /// The next descriptor sent with the line being handled, if any is left.
    func takeFileDescriptor() -> Int32? {
        lineFDs.isEmpty ? nil : lineFDs.removeFirst()
    }

    /// Closes what the line being handled brought and no request took.
    func closeLineDescriptors(unused: Bool = false) {
        if unused && !lineFDs.isEmpty {
            server.clientLog.log(
                .warn, cause: "descriptors not used", client: id, connection: id,
                "\(lineFDs.count) descriptors sent with a line were not used; closed")
        }
        lineFDs.forEach { Glibc.close($0) }
        lineFDs = []
    }

    /// Queues one message written by `write` (and `fds`, sent with its first byte) and flushes
    /// after this loop iteration. A message larger than the output limit is replaced by an error
    /// to `id` (the request it answers). False when the client was dropped for not reading.
    @discardableResult
    func send(fds: [Int32], replyTo id: RequestID = .null, _ write: (inout [UInt8]) -> Void) -> Bool {
        guard !fds.isEmpty else { return send(replyTo: id, write) }
        guard !closed else {
            fds.forEach { Glibc.close($0) }
            return false
        }
        return queued(output.append(fds: fds) { message(write, into: &$0) }, replyTo: id)
    }

    /// Queues one message written by `write` (no descriptors: the path of nearly every reply).
    @discardableResult
    func send(replyTo id: RequestID = .null, _ write: (inout [UInt8]) -> Void) -> Bool {
        guard !closed else { return false }
        return queued(output.append { message(write, into: &$0) }, replyTo: id)
    }

    private func message(_ write: (inout [UInt8]) -> Void, into buffer: inout [UInt8]) {
        write(&buffer)
        buffer.append(0x0A)
    }

    private func queued(_ appended: OutputQueue.Appended, replyTo id: RequestID) -> Bool {
        switch appended {
        case .queued:
            countOutput()
            if buffered.output > buffered.maxOutput {
                server.dropLargestReader()
                if closed { return false }
            }
        case .tooLarge(let bytes):
            let error = server.replyTooLarge(bytes: bytes)
            return send { JSONRPC.writeError(id: id, error: error, into: &$0) }
        case .full:
            server.dropSlowReader(self, limit: "max_output_bytes", output.limit)
            return false
        }
        flushSoon(on: server)
        return true
    }

    override var ringCanWrite: Bool { !closed && super.ringCanWrite }

    override func ringWrote(_ n: Int) {
        super.ringWrote(n)
        server.stats.bytesToClients += n
    }

    override func flushQueued() { flush() }

    func flush() {
        guard !closed else { return }
        let before = output.bytesWritten
        defer {
            server.stats.bytesToClients += output.bytesWritten - before
            countOutput()
        }
        switch flush(loop: server.loop, readEvents: readClosed ? 0 : Self.readEvents) {
        case .done: closeIfDone()
        case .wouldBlock: break
        case .failed(let code): close(reason: "write: \(String(cString: strerror(code)))")
        }
    }

    static let readEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue

    /// Bring the server's totals of buffered bytes (the overall caps) up to date with this
    /// connection's incomplete line (not while the framer is handing out lines) and unwritten
    /// replies.
    private func countInput() {
        let input = closed ? 0 : framer.bufferedBytes
        buffered.input += input - countedInput
        countedInput = input
    }

    private func countOutput() {
        let pending = closed ? 0 : output.pendingBytes
        buffered.output += pending - countedOutput
        countedOutput = pending
    }

    /// After the client's half-close: close once every reply is out.
    func closeIfDone() {
        if readClosed && inFlight == 0 && output.isEmpty { close(reason: "client closed") }
    }

    /// Stops reading new requests (shutdown); replies already due still go out.
    func stopReading() {
        guard !readClosed else { return }
        readClosed = true
        server.loop.modify(fd, events: waitingForWritable ? EPOLLOUT.rawValue : 0)
    }

    func close(reason: String) {
        guard !closed else { return }
        closed = true
        server.loop.unregister(fd)
        Glibc.close(fd)
        output.discard()
        countOutput()
        countInput()  // reads no framer once closed: safe while it is handing out a line
        closeArriving()
        closeLineDescriptors()
        server.connectionClosed(self, reason: reason)
    }
}
