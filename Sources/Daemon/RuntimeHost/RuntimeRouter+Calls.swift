import BindingRuntime
import Glibc
import RPCServer

/// Streams and blocking calls on an object run one at a time (one generation per model; a context
/// is not thread-safe), the others wait in a CallQueue; streams are bounded and told their place.
/// A client stops only its own streams: abort reaches the runtime only for the caller's running
/// stream, `$/cancelRequest` ends one request, and a client that goes has its running stream
/// aborted and its queued ones dropped. Loop thread only.
extension RuntimeRouter {
    /// Runs `send` on `object` alone: now, or after the calls before it (a stream is told its
    /// place, refused beyond the queue limit, and answered "busy" after the queue timeout).
    /// `send` gets the work and the function its answer must call.
    func runAlone(
        _ call: Call, isStream: Bool, fds: [Int32], on object: RuntimeObject,
        _ send: @escaping (_ work: RuntimeObject.Work, _ done: @escaping () -> Void) -> Void
    ) {
        let work = RuntimeObject.Work(call: call, isStream: isStream, fds: fds)
        // Weak: the object holds the work. Once started, the call holds the object until it is
        // done, so the calls waiting behind it start even when it destroyed the object.
        work.start = { [unowned self, weak object, unowned work] in
            guard let object else { return }
            send(work) { self.finished(work, on: object) }
        }
        switch object.calls.admit(work, limit: isStream ? limits.maxQueue : nil) {
        case .run:
            work.start()
        case .full:
            work.endUnrun(
                RPCError(
                    code: RPCError.Code.queueFull,
                    message: "busy: \(object.calls.waiting.count) requests are queued for this \(object.type)",
                    data: .object([
                        "queued": .int(Int64(object.calls.waiting.count)), "limit": .int(Int64(limits.maxQueue)),
                    ])))
        case .queued(let position):
            guard isStream else { return }
            call.emit(.object([StreamMember.queuePosition: .int(Int64(position))]))
            guard limits.queueTimeout > 0, let loop else { return }
            loop.schedule(after: limits.queueTimeout) { [weak self, weak object, weak work] in
                guard let self, let object, let work, !object.calls.removeWaiting(where: { $0 === work }).isEmpty
                else { return }
                work.endUnrun(
                    RPCError(
                        code: RPCError.Code.handleBusy,
                        message: "busy: waited \(limits.queueTimeout) s in the queue of this \(object.type)",
                        data: .object(["waited_s": .double(limits.queueTimeout)])))
            }
        }
    }

    /// The running call on `object` ended: the next one starts.
    private func finished(_ work: RuntimeObject.Work, on object: RuntimeObject) {
        object.calls.finish(work)?.start()
        stopIfIdle(object.host)
    }

    /// A streaming call: its messages to the client as they come, its final message as its answer
    /// (StreamEnd decides how it ended), one stream at a time per object.
    func stream(_ call: Call, entry: MethodSpec, params: JSONValue?, fds: [Int32], on object: RuntimeObject) {
        runAlone(call, isStream: true, fds: fds, on: object) { work, done in
            let stream = StreamEnd(
                outlivesCall: !entry.blocking, limit: self.streamLimit(entry, params: params, on: object))
            work.hostCall = object.host.call(
                method: entry.method, params: params, fds: fds, stream: stream,
                onCallback: { call.emit(text: $0) },
                onAnswer: { outcome, fds in
                    fds.forEach { close($0) }
                    call.respond(outcome)
                    done()
                })
            // Only a run whose call returns when it ends can pause: then the host knows it ended.
            work.canPause = entry.pauseValue != nil && entry.blocking
        }
    }

    /// What a stream's call allows of its count (`StreamLimit`): the first of the limit's members
    /// the call, or the call that created its object, sets above 0.
    private func streamLimit(_ entry: MethodSpec, params: JSONValue?, on object: RuntimeObject) -> StreamEnd.Limit? {
        guard let limit = entry.streamLimit else { return nil }
        for (path, onCreation) in limit.limits {
            var value: JSONValue?
            if onCreation, let creation = object.creation {
                // What the creating call left out is its struct's default.
                let defaults = creation.entry.defaults[path[0]].flatMap {
                    runtimes[object.host.namespace]?.defaults[$0]
                }
                value =
                    Self.member(path, of: creation.params, entry: creation.entry)
                    ?? path.dropFirst().reduce(defaults) { $0?[$1] }
            } else if !onCreation {
                value = Self.member(path, of: params, entry: entry)
            }
            guard case .int(let most)? = value, most > 0 else { continue }
            return StreamEnd.Limit(ending: limit.ending, count: limit.count, most: most)
        }
        return nil
    }

    /// `$/pauseRequest {"id": X}`: the caller's running stream X pauses at its next message (it
    /// ends `"_ended": "paused"`; a later call on the object goes on with it). Answers
    /// `{"pausing": found}`. A stream that other clients' calls could see paused is refused.
    func pause(_ call: Call) {
        guard let target = JSONParams.get(call.params, at: 0, named: "id") else {
            return call.respond(.failure(RPCError.invalidParams("id", "the id of the request to pause")))
        }
        for object in liveObjects() {
            guard let running = object.calls.running, running.isStream, running.belongs(to: call.connection),
                running.call.request.id?.value == target
            else { continue }
            guard running.canPause, let hostCall = running.hostCall else {
                return call.respond(
                    .failure(
                        RPCError(
                            code: RPCError.Code.invalidParams,
                            message:
                                "request \(target.jsonText) cannot pause: only a run whose call lasts until it ends "
                                + "(not one that returns at once) pauses, where the runtime can pause")))
            }
            if object.shareKey != nil, !object.isPrivate {
                guard !handles.isHeld(object, byOtherThan: call.connection) else {
                    return call.respond(
                        .failure(
                            RPCError(
                                code: RPCError.Code.handleBusy,
                                message:
                                    "a paused run changes what the other users of this \(object.type) see: "
                                    + "pause a run on one of your own")))
                }
                // Its paused state is the caller's: nobody joins the object any more.
                object.isPrivate = true
                sharedObjects.remove(object, key: object.shareKey)
            }
            object.host.pause(call: hostCall)
            return call.respond(.success(.object(["pausing": true])))
        }
        call.respond(.success(.object(["pausing": false])))
    }

    /// `abort` on a shared object: the runtime is asked only when the caller's stream is the one
    /// running; the caller's queued streams are dropped either way.
    func abortOwnStream(_ call: Call, entry: MethodSpec, params: JSONValue?, on object: RuntimeObject) {
        dropQueued(on: object, where: { $0.belongs(to: call.connection) })
        guard let running = object.calls.running, running.isStream, running.belongs(to: call.connection) else {
            return call.respond(.success(.object([:])))
        }
        if let hostCall = running.hostCall { object.host.stopped(call: hostCall, by: .aborted) }
        object.host.call(
            method: entry.method, params: params,
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
                if let hostCall = running.hostCall { object.host.stopped(call: hostCall, by: .cancelled) }
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
        for work in object.calls.removeWaiting(where: { _ in true }) { work.endUnrun(error) }
    }

    /// Drops the queued streams that match, answering "request cancelled"; whether there were any.
    @discardableResult
    private func dropQueued(on object: RuntimeObject, where matches: (RuntimeObject.Work) -> Bool) -> Bool {
        let dropped = object.calls.removeWaiting { $0.isStream && matches($0) }
        for work in dropped { work.endUnrun(RPCError(code: RPCError.Code.cancelled, message: "request cancelled")) }
        return !dropped.isEmpty
    }

    /// Asks the runtime to stop the object's running stream; its end arrives as usual.
    private func abortRunning(on object: RuntimeObject) {
        guard object.crashed == nil,
            let abort = runtimes[object.host.namespace]?.table.manifest.abortMethods[object.type]
        else { return }
        object.host.call(
            method: abort, params: .array([object.hostID]),
            onAnswer: { _, fds in
                fds.forEach { close($0) }
            })
    }

    /// The server's own methods for streams, and `server.models`.
    public func serverMethods() -> [ServerMethod] {
        let cancel = Self.requestControl(
            "$/cancelRequest",
            summary:
                "Cancels a request of this connection: a running stream is aborted, a queued one answered 'request cancelled'.",
            answer: "cancelled")
        let pause = Self.requestControl(
            "$/pauseRequest",
            summary:
                "Pauses a running stream of this connection at its next message, where its runtime can pause "
                + "(a blocking run): it ends with _ended 'paused', and a later call on its object goes on with it.",
            answer: "pausing")
        return [
            ServerMethod(name: "$/cancelRequest", description: cancel) { [unowned self] call in self.cancel(call) },
            ServerMethod(name: "$/pauseRequest", description: pause) { [unowned self] call in self.pause(call) },
            modelsMethod(), keepAliveMethod(),
        ]
    }

    /// The description of a method that acts on another request of the connection (`{"id": X}`)
    /// and answers whether it found it.
    private static func requestControl(_ name: String, summary: String, answer: String) -> JSONValue {
        .object([
            "name": .string(name), "paramStructure": "either", "summary": .string(summary),
            "params": [["name": "id", "required": true, "schema": ["description": "the request's id"]]],
            "result": [
                "name": "result",
                "schema": ["type": "object", "properties": .object([answer: ["type": "boolean"]])],
            ],
        ])
    }
}
