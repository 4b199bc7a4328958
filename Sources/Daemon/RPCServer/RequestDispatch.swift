import BindingRuntime
import Glibc

/// The JSON-RPC layer of the server: a line in, requests checked and dispatched (alone or in a
/// batch), answers and stream messages out. Loop thread only.
extension Server {
    func handleOverlongLine(bytes: Int, from connection: Connection) {
        stats.overlongLines += 1
        stats.errors += 1
        connection.send { out in
            JSONRPC.writeError(
                id: .null,
                error: RPCError(
                    code: RPCError.Code.invalidRequest,
                    message: "message longer than \(configuration.maxMessageBytes) bytes; skipped",
                    data: .object(["limit": .int(Int64(configuration.maxMessageBytes))])), into: &out)
        }
    }

    func handleLine(_ line: UnsafeRawBufferPointer, from connection: Connection) {
        guard !connection.closed else { return }
        let plain = connection.lastRequest.read(line, knownMethod: knownMethod) {
            dispatch($0, from: connection, batch: nil)
        }
        if plain { return }
        let message: JSONRPC.Message
        do {
            message = try JSONRPC.message(bytes: line, knownMethod: knownMethod, plainFirst: false)
        } catch {
            stats.parseErrors += 1
            stats.errors += 1
            connection.send { JSONRPC.writeError(id: .null, error: JSONRPC.parseError(error), into: &$0) }
            return
        }
        switch message {
        case .single(let request):
            dispatch(request, from: connection, batch: nil)
        case .batch(let requests):
            guard !requests.isEmpty else {
                stats.errors += 1
                connection.send {
                    JSONRPC.writeError(id: .null, error: JSONRPC.invalidRequest("empty batch"), into: &$0)
                }
                return
            }
            let batch = Batch(count: requests.count)
            for request in requests { dispatch(request, from: connection, batch: batch) }
            batch.sealed = true
            finish(batch, connection: connection)
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

    func dispatch(_ request: Result<Request, JSONRPC.Invalid>, from connection: Connection, batch: Batch?) {
        switch request {
        case .success(let request): dispatch(request, from: connection, batch: batch)
        case .failure(let invalid): reject(invalid, from: connection, batch: batch)
        }
    }

    /// A message that is not a valid request: its error, with the id when one could be read.
    func reject(_ invalid: JSONRPC.Invalid, from connection: Connection, batch: Batch?) {
        stats.errors += 1
        reply(to: invalid.id, connection: connection, batch: batch) {
            JSONRPC.writeError(id: invalid.id, error: invalid.error, into: &$0)
        }
    }

    func dispatch(_ request: Request, from connection: Connection, batch: Batch?) {
        if request.id == nil { stats.notifications += 1 } else { stats.requests += 1 }
        guard let slot = method(named: request.method) else {
            if let id = request.id {
                stats.errors += 1
                reply(to: id, connection: connection, batch: batch) {
                    JSONRPC.writeError(id: id, error: JSONRPC.methodNotFound(request.method), into: &$0)
                }
            } else {
                reply(to: nil, connection: connection, batch: batch)
            }
            return
        }
        // Descriptors sent with a request of a method that takes none: closed, and the request
        // refused, so that they cannot reach a later request (nor a process hold them).
        if batch == nil, slot.method.fileDescriptors == 0, connection.hasLineDescriptors {
            connection.closeLineDescriptors()
            if request.id != nil { stats.errors += 1 }
            let error = RPCError(
                code: RPCError.Code.invalidParams,
                message: "\(request.method) takes no file descriptors; those sent with it were closed")
            return answer(request, .failure(error), connection: connection, batch: batch, fds: [])
        }
        if shuttingDown, let id = request.id {
            stats.errors += 1
            reply(to: id, connection: connection, batch: batch) {
                JSONRPC.writeError(
                    id: id, error: RPCError(code: RPCError.Code.shuttingDown, message: "server shutting down"),
                    into: &$0
                )
            }
            return
        }
        switch slot.method.handler {
        case .immediate(let body):
            // No Call: answered here and now; a result goes straight into the reply.
            let result: JSONValue
            do {
                result = try body(request)
            } catch {
                record(slot, started: loop.iterationStarted, failed: true, sampled: true)
                let failure =
                    error as? RPCError
                    ?? RPCError(code: RPCError.Code.internalError, message: "internal error: \(error)")
                return answer(request, .failure(failure), connection: connection, batch: batch, fds: [])
            }
            record(slot, started: loop.iterationStarted, failed: false, sampled: true)
            guard batch == nil, let id = request.id else {
                return answer(request, .success(result), connection: connection, batch: batch, fds: [])
            }
            connection.send(replyTo: id) { JSONRPC.writeResult(id: id, result: result, into: &$0) }
        case .deferred(let handler):
            connection.inFlight += 1
            handler(
                Call(
                    request: request, connection: connection.id, peer: connection.peer, server: self, slot: slot,
                    batch: batch))
        }
    }

    /// Counts the call; measures its latency (for a `sampled` method, one call in `sampleEvery`).
    func record(_ slot: MethodSlot, started: UInt64, failed: Bool, sampled: Bool = false) {
        slot.stats.count(failed: failed)
        if !sampled || slot.stats.calls % Stats.MethodStats.sampleEvery == 1 {
            slot.stats.sample(nanos: EventLoop.now() - started)
        }
        if failed { stats.errors += 1 }
    }

    /// The answer to a request (none for a notification), alone or into its batch.
    func answer(
        _ request: Request, _ outcome: Result<JSONValue, RPCError>, connection: Connection, batch: Batch?, fds: [Int32]
    ) {
        if let id = request.id {
            reply(to: id, connection: connection, batch: batch, fds: fds) { JSONRPC.write(id: id, outcome, into: &$0) }
        } else {
            reply(to: nil, connection: connection, batch: batch)
        }
    }

    /// A stream message of a call not yet answered, on the loop thread.
    func emit(_ call: Call, _ message: StreamMessage, fds: [Int32]) {
        if let sink = call.sink {
            fds.forEach { close($0) }
            if !call.answered && isConnected(call.connection) { sink.message(message.value) }
            return
        }
        guard !call.answered, let id = call.request.id, let connection = connections[call.connection] else {
            fds.forEach { close($0) }
            return
        }
        connection.send(fds: fds, replyTo: id) {
            switch message {
            case .value(let result): JSONRPC.writeResult(id: id, result: result, into: &$0)
            case .text(let text): JSONRPC.writeResult(id: id, text: text, into: &$0)
            }
        }
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
        record(call.slot, started: call.started, failed: outcome.failed)
        if let sink = call.sink {
            fds.forEach { close($0) }
            if isConnected(call.connection) { sink.answer(outcome) }
            return checkShutdownDone()
        }
        if call.batch != nil || call.request.id == nil || connections[call.connection] == nil {
            fds.forEach { close($0) }
            fds = []
        }
        guard let connection = connections[call.connection] else { return }  // gone: dropped safely
        connection.inFlight -= 1
        answer(call.request, outcome, connection: connection, batch: call.batch, fds: fds)
        connection.closeIfDone()
        checkShutdownDone()
    }

    /// What a client gets instead of a reply larger than `--max-output-bytes`.
    func replyTooLarge(bytes: Int) -> RPCError {
        stats.repliesTooLarge += 1
        return RPCError.limitExceeded(
            "max_output_bytes", configuration.maxOutputBytes, what: "a reply of \(bytes) bytes")
    }

    /// The reply to `id` (none for a notification, nil), alone or into its batch.
    func reply(
        to id: RequestID?, connection: Connection, batch: Batch?, fds: [Int32] = [],
        _ write: (inout [UInt8]) -> Void = { _ in }
    ) {
        guard let batch else {
            if let id { connection.send(fds: fds, replyTo: id, write) }
            return
        }
        if let id {
            var bytes: [UInt8] = []
            write(&bytes)
            if bytes.count > configuration.maxOutputBytes {
                let error = replyTooLarge(bytes: bytes.count)
                bytes = []
                JSONRPC.writeError(id: id, error: error, into: &bytes)
            }
            batch.replies.append(bytes)
        }
        batch.outstanding -= 1
        if batch.sealed { finish(batch, connection: connection) }
    }

    func finish(_ batch: Batch, connection: Connection) {
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
}

extension Result {
    var failed: Bool {
        if case .failure = self { return true }
        return false
    }
}
