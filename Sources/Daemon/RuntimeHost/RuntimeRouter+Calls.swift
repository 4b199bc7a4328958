import BindingRuntime
import Glibc
import RPCServer

/// Streams and blocking calls on an object run one at a time (one generation per model; a context
/// is not thread-safe), the others wait in a CallQueue; streams are bounded and told their place.
/// A client stops only its own streams: abort reaches the runtime only for the caller's running
/// stream, `$/cancelRequest` ends one request, and a client that goes has its running stream
/// aborted and its queued ones dropped. Loop thread only.
extension RuntimeRouter {
    /// The member of a queued stream's first message: its place in the queue (1 = next).
    static let queuePositionKey = "_queue_position"

    /// Runs `send` on `object` alone: now, or after the calls before it (a stream is told its
    /// place, refused beyond the queue limit, and answered "busy" after the queue timeout).
    /// `send` gets the work and the function its answer must call.
    func runAlone(
        _ call: Call, isStream: Bool, fds: [Int32], on object: RuntimeObject,
        _ send: @escaping (_ work: RuntimeObject.Work, _ done: @escaping () -> Void) -> Void
    ) {
        let work = RuntimeObject.Work(call: call, isStream: isStream, fds: fds)
        // Weak: the call may destroy the object, and the object holds the work.
        work.start = { [unowned self, weak object, unowned work] in
            send(work) {
                if let object { self.finished(work, on: object) }
            }
        }
        switch object.calls.admit(work, limit: isStream ? limits.maxQueue : nil) {
        case .run:
            work.start()
        case .full:
            fds.forEach { close($0) }
            call.respond(
                .failure(
                    RPCError(
                        code: RPCError.Code.queueFull,
                        message: "busy: \(object.calls.waiting.count) requests are queued for this \(object.type)",
                        data: .object([
                            "queued": .int(Int64(object.calls.waiting.count)), "limit": .int(Int64(limits.maxQueue)),
                        ]))))
        case .queued(let position):
            guard isStream else { return }
            call.emit(.object([Self.queuePositionKey: .int(Int64(position))]))
            guard limits.queueTimeout > 0, let loop else { return }
            loop.schedule(after: limits.queueTimeout) { [weak self, weak object, weak work] in
                guard let self, let object, let work, !object.calls.removeWaiting(where: { $0 === work }).isEmpty
                else { return }
                work.fds.forEach { close($0) }
                work.call.respond(
                    .failure(
                        RPCError(
                            code: RPCError.Code.handleBusy,
                            message: "busy: waited \(limits.queueTimeout) s in the queue of this \(object.type)",
                            data: .object(["waited_s": .double(limits.queueTimeout)]))))
            }
        }
    }

    /// The running call on `object` ended: the next one starts.
    private func finished(_ work: RuntimeObject.Work, on object: RuntimeObject) {
        object.calls.finish(work)?.start()
        stopIfIdle(object.host)
    }

    /// A streaming call: its messages to the client as they come, its final message as its answer
    /// (StreamEnd; stopped by a client, it says how), one stream at a time per object.
    func stream(_ call: Call, entry: MethodSpec, params: JSONValue?, fds: [Int32], on object: RuntimeObject) {
        runAlone(call, isStream: true, fds: fds, on: object) { work, done in
            object.host.call(
                method: entry.method, params: params, fds: fds, outlivesCall: !entry.blocking,
                onCallback: { call.emit(.object($0)) },
                onAnswer: { [unowned work] outcome, fds in
                    fds.forEach { close($0) }
                    var outcome = outcome
                    if let stopped = work.stopped, case .success(.object(var final)) = outcome,
                        final[StreamEnd.endingKey] == .string(StreamEnd.Ending.finished.rawValue)
                    {
                        final[StreamEnd.endingKey] = .string(stopped.rawValue)
                        outcome = .success(.object(final))
                    }
                    call.respond(outcome)
                    done()
                })
        }
    }

    /// `abort` on a shared object: the runtime is asked only when the caller's stream is the one
    /// running; the caller's queued streams are dropped either way.
    func abortOwnStream(_ call: Call, entry: MethodSpec, params: JSONValue?, on object: RuntimeObject) {
        dropQueued(on: object, where: { $0.belongs(to: call.connection) })
        guard let running = object.calls.running, running.isStream, running.belongs(to: call.connection) else {
            return call.respond(.success(.object([:])))
        }
        running.stopped = .aborted
        object.host.call(
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
            let isTarget = { (work: RuntimeObject.Work) in
                work.belongs(to: call.connection) && work.call.request.id?.value == target
            }
            if let running = object.calls.running, running.isStream, isTarget(running) {
                running.stopped = .cancelled
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
            if let running = object.calls.running, running.isStream, running.belongs(to: connection) {
                abortRunning(on: object)
            }
        }
    }

    /// Calls still queued on an object whose host died (or at shutdown) get the error.
    func failWaiting(on object: RuntimeObject, _ error: RPCError) {
        for work in object.calls.removeWaiting(where: { _ in true }) {
            work.fds.forEach { close($0) }
            work.call.respond(.failure(error))
        }
    }

    /// Drops the queued streams that match, answering "request cancelled"; whether there were any.
    @discardableResult
    private func dropQueued(on object: RuntimeObject, where matches: (RuntimeObject.Work) -> Bool) -> Bool {
        let dropped = object.calls.removeWaiting { $0.isStream && matches($0) }
        for work in dropped {
            work.fds.forEach { close($0) }
            work.call.respond(.failure(RPCError(code: RPCError.Code.cancelled, message: "request cancelled")))
        }
        return !dropped.isEmpty
    }

    /// Asks the runtime to stop the object's running stream; its end arrives as usual.
    private func abortRunning(on object: RuntimeObject) {
        guard object.crashed == nil,
            let abort = runtimes[object.host.namespace]?.table.manifest.abortMethods[object.type]
        else { return }
        object.host.call(
            method: abort, params: .array([object.hostID]), onCallback: { _ in },
            onAnswer: { _, fds in
                fds.forEach { close($0) }
            })
    }

    /// The server's own methods for streams, and `server.models`.
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
        return [
            ServerMethod(name: "$/cancelRequest", description: description) { [unowned self] call in cancel(call) },
            modelsMethod(),
        ]
    }
}
