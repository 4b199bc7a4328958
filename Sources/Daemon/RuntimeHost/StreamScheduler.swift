import BindingRuntime
import Glibc
import RPCServer

/// Streaming calls on an object run one at a time (one generation per model); the others wait
/// FIFO, bounded, and are told their place. A client stops only its own streams: abort reaches the
/// runtime only for the caller's running stream, `$/cancelRequest` ends one request, and a client
/// that goes has its running stream aborted and its queued ones dropped. Loop thread only.
extension RuntimeRouter {
    /// The member of a queued stream's first message: its place in the queue (1 = next).
    static let queuePositionKey = "_queue_position"

    func enqueue(_ stream: RuntimeObject.Stream, on object: RuntimeObject) {
        guard object.running != nil else { return start(stream, on: object) }
        guard object.waiting.count < limits.maxQueue else {
            stream.fds.forEach { close($0) }
            return stream.call.respond(
                .failure(
                    RPCError(
                        code: RPCError.queueFullCode,
                        message: "busy: \(object.waiting.count) requests are queued for this \(object.type)",
                        data: .object([
                            "queued": .int(Int64(object.waiting.count)), "limit": .int(Int64(limits.maxQueue)),
                        ]))))
        }
        object.waiting.append(stream)
        stream.call.emit(.object([Self.queuePositionKey: .int(Int64(object.waiting.count))]))
        guard limits.queueTimeout > 0, let loop else { return }
        loop.schedule(after: limits.queueTimeout) { [weak self, weak object, weak stream] in
            guard let self, let object, let stream, let index = object.waiting.firstIndex(where: { $0 === stream })
            else { return }
            object.waiting.remove(at: index)
            stream.fds.forEach { close($0) }
            stream.call.respond(
                .failure(
                    RPCError(
                        code: RPCError.handleBusyCode,
                        message: "busy: waited \(limits.queueTimeout) s in the queue of this \(object.type)",
                        data: .object(["waited_s": .double(limits.queueTimeout)]))))
        }
    }

    private func start(_ stream: RuntimeObject.Stream, on object: RuntimeObject) {
        object.running = stream
        object.worker.call(
            method: stream.entry.method, params: stream.params, fds: stream.fds, streams: !stream.entry.blocking,
            onCallback: { callback in
                let message = Self.clientMessage(callback)
                if callback["final"] == .bool(true) {
                    stream.finalMessage = message
                } else {
                    stream.call.emit(.object(message))
                }
            },
            onAnswer: { [unowned self] outcome, fds in
                fds.forEach { close($0) }
                finish(stream, on: object, outcome)
            })
    }

    /// The stream's answer is its final message; a runtime error after it joins it as `code`.
    private func finish(
        _ stream: RuntimeObject.Stream, on object: RuntimeObject, _ outcome: Result<JSONValue, RPCError>
    ) {
        switch (outcome, stream.finalMessage) {
        case (.success, let final?):
            stream.call.respond(.success(.object(final)))
        case (.failure(let error), var final?):
            final["code"] = error.data?["code"] ?? .int(Int64(error.code))
            stream.call.respond(.success(.object(final)))
        case (let outcome, nil):
            stream.call.respond(outcome)
        }
        if object.running === stream { object.running = nil }
        if object.running == nil, !object.waiting.isEmpty { start(object.waiting.removeFirst(), on: object) }
        stopIfIdle(object.worker)
    }

    /// `abort` on a shared object: the runtime is asked only when the caller's stream is the one
    /// running; the caller's queued streams are dropped either way.
    func abortOwnStream(_ call: Call, entry: MethodEntry, params: JSONValue?, on object: RuntimeObject) {
        dropQueued(on: object, where: { $0.belongs(to: call.connection) })
        guard object.running?.belongs(to: call.connection) == true else { return call.respond(.success(.object([:]))) }
        object.worker.call(
            method: entry.method, params: params, onCallback: { _ in },
            onAnswer: { outcome, fds in
                fds.forEach { close($0) }
                call.respond(outcome)
            })
    }

    /// `$/cancelRequest {"id": X}`: request X of the caller ends (running: aborted; queued:
    /// answered "request cancelled"). Answers `{"cancelled": found}` when it is not a notification.
    func cancel(_ call: Call) {
        guard let target = JSONParams.get(call.params, at: 0, named: "id") else {
            return call.respond(.failure(RPCError.invalidParams("id", "the id of the request to cancel")))
        }
        var found = false
        for object in liveObjects() {
            let isTarget = { (stream: RuntimeObject.Stream) in
                stream.belongs(to: call.connection) && stream.call.request.id?.value == target
            }
            if let running = object.running, isTarget(running) {
                abortRunning(on: object)
                found = true
            }
            found = dropQueued(on: object, where: isTarget) || found
        }
        call.respond(.success(.object(["cancelled": .bool(found)])))
    }

    /// A client that left: its running streams are aborted and its queued ones dropped, on one
    /// object or on all.
    func abandonStreams(of connection: UInt64, on only: RuntimeObject? = nil) {
        for object in only.map({ [$0] }) ?? liveObjects() {
            dropQueued(on: object, where: { $0.belongs(to: connection) })
            if object.running?.belongs(to: connection) == true { abortRunning(on: object) }
        }
    }

    /// Streams still queued on an object whose host died (or at shutdown) get the error.
    func failWaiting(on object: RuntimeObject, _ error: RPCError) {
        let waiting = object.waiting
        object.waiting = []
        for stream in waiting {
            stream.fds.forEach { close($0) }
            stream.call.respond(.failure(error))
        }
    }

    @discardableResult
    private func dropQueued(on object: RuntimeObject, where matches: (RuntimeObject.Stream) -> Bool) -> Bool {
        let dropped = object.waiting.filter(matches)
        object.waiting.removeAll(where: matches)
        for stream in dropped {
            stream.fds.forEach { close($0) }
            stream.call.respond(.failure(RPCError(code: RPCError.cancelledCode, message: "request cancelled")))
        }
        return !dropped.isEmpty
    }

    /// Asks the runtime to stop the object's running stream; its end arrives as usual.
    private func abortRunning(on object: RuntimeObject) {
        guard object.crashed == nil,
            let abort = runtimes[object.worker.namespace]?.runtime.manifest.abortMethods[object.type]
        else { return }
        object.worker.call(
            method: abort, params: .array([object.workerID]), onCallback: { _ in },
            onAnswer: { _, fds in
                fds.forEach { close($0) }
            })
    }

    /// The server's own methods for streams.
    public func serverMethods() -> [ServerMethod] {
        let description: JSONValue = .object([
            "name": "$/cancelRequest", "paramStructure": "either",
            "summary":
                "Cancels a request of this connection: a running stream is aborted, a queued one answered 'request cancelled'.",
            "params": .array([
                .object(["name": "id", "required": true, "schema": .object(["description": "the request's id"])])
            ]),
            "result": .object([
                "name": "result",
                "schema": .object([
                    "type": "object", "properties": .object(["cancelled": .object(["type": "boolean"])]),
                ]),
            ]),
        ])
        return [ServerMethod(name: "$/cancelRequest", description: description) { [unowned self] call in cancel(call) }]
    }
}
