import BindingRuntime

/// Where a call from another front goes: its stream messages and its answer, on the loop thread.
struct CallSink {
    let message: (JSONValue) -> Void
    let answer: (Result<JSONValue, RPCError>) -> Void
}

/// Clients that reach the methods through another front than the JSON-RPC socket (HTTP). Each has
/// a connection id like a socket client's: it counts against `--max-connections`, its handles are
/// its own, and when it goes everything it held is released and its streams end (the disconnect
/// observers). Its calls run the same methods, with their messages and answer handed to closures.
/// Loop thread only.
extension Server {
    /// A new client's id, or nil when the front has `limit` clients already (its own limit: they
    /// never take a socket client's place) or the server is shutting down.
    public func openFrontConnection(limit: Int) -> UInt64? {
        guard !shuttingDown, frontConnections.count < limit else {
            stats.connectionsRejected += 1
            return nil
        }
        let id = nextConnectionID
        nextConnectionID += 1
        frontConnections.insert(id)
        stats.connectionsAccepted += 1
        descriptorShortage.admitted()
        return id
    }

    /// The client went: what it held is released, its calls' answers are dropped.
    public func closeFrontConnection(_ id: UInt64, reason: String) {
        guard frontConnections.remove(id) != nil else { return }
        descriptorShortage.resume()
        logger.debug("closed: \(reason)", connection: id)
        for observer in disconnectObservers { observer(id) }
        checkShutdownDone()
    }

    /// Calls `method` for the client `connection`: `messages` gets each stream message, `answer`
    /// the answer (neither once the client has gone).
    public func call(
        _ method: String, _ params: JSONValue?, connection: UInt64, peer: Peer, id: Int64,
        messages: @escaping (JSONValue) -> Void, answer: @escaping (Result<JSONValue, RPCError>) -> Void
    ) {
        let request = Request(id: .int(id), method: method, params: params)
        stats.requests += 1
        guard let slot = self.method(named: method) else {
            stats.errors += 1
            return answer(.failure(JSONRPC.methodNotFound(method)))
        }
        guard !shuttingDown else {
            stats.errors += 1
            return answer(.failure(RPCError(code: RPCError.Code.shuttingDown, message: "server shutting down")))
        }
        switch slot.method.handler {
        case .immediate(let body):
            let outcome = Result { try body(request) }.mapError(RPCError.from)
            record(slot, started: loop.iterationStarted, failed: outcome.failed, sampled: true)
            answer(outcome)
        case .deferred(let handler):
            handler(
                Call(
                    request: request, connection: connection, peer: peer, server: self, slot: slot, batch: nil,
                    sink: CallSink(message: messages, answer: answer)))
        }
    }
}
