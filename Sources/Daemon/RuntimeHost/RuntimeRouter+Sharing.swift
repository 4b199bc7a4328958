import BindingRuntime
import Dispatch
import Glibc
import RPCServer

/// Objects shared between clients (a handle type the annotations mark `shared`): a
/// creating call with the parameters of a live object joins it; each client's handle is a
/// reference; the last one gone leaves the object loaded for the keep-alive, then it is destroyed.
/// Loop thread only.
extension RuntimeRouter {
    /// `share`: what the caller reserved of its quota for its handle (each joiner reserved the same).
    /// The file paths among its parameters are resolved first, off the event loop and in the order
    /// the calls came (a file named `demo`, `demo.rkllm` or by its full path is one object).
    func createShared(_ call: Call, entry: MethodSpec, params: JSONValue?, state: RuntimeState, share: Holdings) {
        guard !entry.paths.isEmpty, let loop else {
            return joinOrLoad(call, entry: entry, params: params, state: state, share: share)
        }
        let namespace = state.runtime.namespace
        let policy = PathPolicy(
            directories: state.runtime.hostSettings.paths, extensions: state.runtime.hostSettings.extensions)
        pathResolution.async {
            var resolved = params
            for (path, kind) in entry.paths {
                guard case .string(let given)? = Self.member(path, of: resolved, entry: entry),
                    let real = try? policy.confine(given, kind: kind, param: path.joined(separator: "."))
                else { continue }  // the host refuses what cannot be resolved, with its reason
                resolved = Self.setting(path, of: resolved, entry: entry, to: .string(real))
            }
            loop.execute { [unowned self, resolved] in
                // Its client may have left meanwhile: then nothing is joined or loaded for it.
                guard let state = runtimes[namespace], isConnected(call.connection) else {
                    return giveBack(share, for: call.connection)
                }
                joinOrLoad(call, entry: entry, params: resolved, state: state, share: share)
            }
        }
    }

    private func joinOrLoad(_ call: Call, entry: MethodSpec, params: JSONValue?, state: RuntimeState, share: Holdings) {
        let namespace = state.runtime.namespace
        let key =
            entry.method + " " + CanonicalJSON.text(Self.sharingKey(params, entry: entry, defaults: state.defaults))
        let runValues = { (caller: Call) in Self.runValues(entry, params: caller.params, defaults: state.defaults) }
        switch sharedObjects.join(key, call, usable: { $0.crashed == nil }) {
        case .joined(let object):
            object.expiry += 1  // a keep-alive timer running out no longer destroys it
            object.unusedSince = nil
            return call.respond(
                .success(
                    Self.created(
                        entry,
                        handle: register(object, owner: call.connection, share: share, runValues: runValues(call)),
                        joined: true)))
        case .waiting: return  // answered when the load ends (told meanwhile that it loads)
        case .load: break
        }
        let started = EventLoop.now()
        load(entry, params: params, namespace: namespace, key: key) { [unowned self] outcome in
            let callers = [call] + sharedObjects.loaded(key, try? outcome.get())
            guard case .success(let object) = outcome else {
                for caller in callers {
                    giveBack(share, for: caller.connection)
                    if case .failure(let error) = outcome { caller.respond(.failure(error)) }
                }
                return
            }
            for (index, caller) in callers.enumerated() {
                guard isConnected(caller.connection) else {
                    giveBack(share, for: caller.connection)
                    continue
                }
                let handle = register(object, owner: caller.connection, share: share, runValues: runValues(caller))
                caller.respond(.success(Self.created(entry, handle: handle, joined: index > 0)))
            }
            if object.references == 0 { expire(object) }  // every caller left while it loaded
        }
        tellLoading(key, namespace: namespace, call: call, since: started)
    }

    /// How often a creating call is told its object is still loading (`_loading`).
    static let loadingInterval = 1.0

    /// Every `loadingInterval` seconds until the caller loading `key` is answered, it and those
    /// waiting for the same load are told how long it has been loading, and while it waits for
    /// its turn, how many loads go before it (at once, the first time).
    private func tellLoading(_ key: String, namespace: String, call: Call, since start: UInt64, first: Bool = true) {
        let tell = { [unowned self] in
            guard !call.isAnswered, let joiners = sharedObjects.waiting(for: key) else { return false }
            var progress: JSONObject = [
                "elapsed_s": .double((Double(EventLoop.now() - start) / 1e8).rounded() / 10)
            ]
            let ahead = loadsAhead(of: key, in: namespace)
            if ahead > 0 { progress["behind"] = .int(Int64(ahead)) }
            call.emit(.object([StreamMember.loading: .object(progress)]))
            progress["joining"] = true
            for joiner in joiners { joiner.emit(.object([StreamMember.loading: .object(progress)])) }
            return true
        }
        if first && loadsAhead(of: key, in: namespace) > 0 { _ = tell() }
        loop?.schedule(after: Self.loadingInterval) { [weak self] in
            guard let self, tell() else { return }
            tellLoading(key, namespace: namespace, call: call, since: start, first: false)
        }
    }

    /// Loads an object with a shared creating call, in its turn (RuntimeRouter+Loads): a free
    /// value of the instance field when the client set none, a host (one of its own where the
    /// runtime wants it), the call. `done` gets the object, not yet in the sharing index, or the error.
    func load(
        _ entry: MethodSpec, params: JSONValue?, namespace: String, key: String,
        done: @escaping (Result<RuntimeObject, RPCError>) -> Void
    ) {
        let start = { [unowned self] (ended: @escaping () -> Void) in
            loadNow(entry, params: params, namespace: namespace, key: key) { outcome in
                ended()
                done(outcome)
            }
        }
        inLoadTurn(namespace, key: key, cancel: { done(.failure($0)) }, start)
    }

    private func loadNow(
        _ entry: MethodSpec, params: JSONValue?, namespace: String, key: String,
        done: @escaping (Result<RuntimeObject, RPCError>) -> Void
    ) {
        let sent = params
        var params = params
        var instanceValue: Int64?
        if let field = entry.instanceField, Self.member(field, of: params, entry: entry) ?? .null == .null {
            let value = sharedObjects.takeInstanceValue(in: namespace)
            params = Self.setting(field, of: params, entry: entry, to: .int(value))
            instanceValue = value
        }
        let host: HostProcess
        do {
            host = try findHost(namespace, client: nil, creating: entry.creates)
        } catch {
            sharedObjects.returnInstanceValue(instanceValue, in: namespace)
            return done(.failure(Self.hostNotStarted(namespace, error)))
        }
        host.call(
            method: entry.method, params: params,
            onAnswer: { [unowned self] outcome, fds in
                fds.forEach { close($0) }
                guard case .success(let result) = outcome, let member = entry.resultHandle, let type = entry.creates,
                    let hostID = result[member]
                else {
                    sharedObjects.returnInstanceValue(instanceValue, in: namespace)
                    stopIfIdle(host)
                    if case .failure(let failure) = outcome { return done(.failure(failure)) }
                    return done(
                        .failure(
                            RPCError(
                                code: RPCError.Code.internalError,
                                message: "\(entry.method) returned no \(entry.resultHandle ?? "handle")")))
                }
                done(
                    .success(
                        RuntimeObject(
                            type: type, createdBy: entry.method, host: host, hostID: hostID, shareKey: key,
                            instanceValue: instanceValue,
                            creation: (entry, sent))))
            })
    }

    /// Drops a client's handle: its streams on the object end, and the last reference starts the
    /// keep-alive.
    func release(_ id: Int64) {
        guard let handle = handles.remove(id) else { return }
        giveBack(handle.share, for: handle.owner)
        let object = handle.object
        object.references -= 1
        if !handles.isHeld(object, by: handle.owner) {
            abandonStreams(of: handle.owner, on: object)
        }
        if object.references == 0 { expire(object) }
    }

    /// An object no handle holds: destroyed after the keep-alive (at once when it is not shared,
    /// one client's own, or its host died).
    func expire(_ object: RuntimeObject) {
        object.expiry += 1
        let token = object.expiry
        let keepAlive = object.keepAlive ?? limits.keepAlive
        guard object.crashed == nil, object.shareKey != nil, !object.isPrivate, keepAlive != 0, let loop else {
            return destroy(object)
        }
        object.unusedSince = EventLoop.now()
        guard keepAlive > 0 else { return }  // kept until the daemon stops
        loop.schedule(after: keepAlive) { [weak self, weak object] in
            guard let self, let object, object.expiry == token, object.references == 0 else { return }
            logger.info("\(object.type) \(object.hostID.jsonText) unused for \(keepAlive) s: unloading")
            destroy(object)
        }
    }

    /// The creating call's result, with the client's handle in place of the host's id.
    private static func created(_ entry: MethodSpec, handle: Int64, joined: Bool) -> JSONValue {
        var result: JSONObject = [entry.resultHandle ?? "handle": .int(handle)]
        if joined { result["joined"] = true }
        return .object(result)
    }

    /// What decides which object a creating call shares: its parameters by name, each filled in
    /// with its struct's defaults (so giving a default changes nothing), less the members the
    /// object's calls give per run (`PerRun`: set to null, so they never differ).
    static func sharingKey(_ params: JSONValue?, entry: MethodSpec, defaults: [String: JSONValue]) -> JSONValue {
        var named: JSONValue? = Self.named(params, entry: entry)
        for (param, method) in entry.defaults {
            guard let base = defaults[method] else { continue }
            let given = member([param], of: named, entry: entry) ?? .null
            named = setting([param], of: named, entry: entry, to: Self.filling(given, with: base))
        }
        for field in entry.perRun?.fields ?? [] {
            named = setting([entry.perRun!.from] + field.from, of: named, entry: entry, to: .null)
        }
        return named ?? .object([:])
    }

    /// `value` with what it leaves out (or null) taken from `base`, member by member.
    static func filling(_ value: JSONValue, with base: JSONValue) -> JSONValue {
        guard case .object(let given) = value, case .object(var filled) = base else {
            return value == .null ? base : value
        }
        for (name, member) in given.pairs { filled[name] = filled[name].map { filling(member, with: $0) } ?? member }
        return .object(filled)
    }

    /// What a client's calls on the object its creating call made get where they give none: each
    /// per-run member of its own creating call, else the default.
    static func runValues(_ entry: MethodSpec, params: JSONValue?, defaults: [String: JSONValue]) -> [(
        path: [String], value: JSONValue
    )] {
        guard let perRun = entry.perRun else { return [] }
        let base = entry.defaults[perRun.from].flatMap { defaults[$0] }
        return perRun.fields.compactMap { field in
            var value = member([perRun.from] + field.from, of: params, entry: entry)
            if value == nil || value == .null { value = field.from.reduce(base) { $0?[$1] } }
            return value.map { ([perRun.to] + field.to, $0) }
        }
    }

    /// `params` of a call with `values` set where it gives none.
    static func giving(_ values: [(path: [String], value: JSONValue)], to params: JSONValue?, entry: MethodSpec)
        -> JSONValue?
    {
        var params = params
        for (path, value) in values where entry.params.contains(where: { $0.name == path[0] }) {
            if (member(path, of: params, entry: entry) ?? .null) == .null {
                params = setting(path, of: params, entry: entry, to: value)
            }
        }
        return params
    }

    /// Parameters in the named form (so both forms of the same call share).
    static func named(_ params: JSONValue?, entry: MethodSpec) -> JSONValue {
        guard case .array(let items)? = params else { return params ?? .object([:]) }
        var object = JSONObject()
        for (index, item) in items.enumerated() where index < entry.params.count && item != .null {
            object[entry.params[index].name] = item
        }
        return .object(object)
    }

    /// The member at `path` (a parameter name, then member names) of the call's parameters.
    static func member(_ path: [String], of params: JSONValue?, entry: MethodSpec) -> JSONValue? {
        guard let first = path.first, let index = entry.params.firstIndex(where: { $0.name == first }) else {
            return nil
        }
        var value = JSONParams.get(params, at: index, named: first)
        for name in path.dropFirst() { value = value?[name] }
        return value
    }

    /// `params` with the member at `path` set, creating the objects on the way. A member on the way
    /// that is there but no object is left as the client sent it, for the call to refuse (-32602).
    static func setting(_ path: [String], of params: JSONValue?, entry: MethodSpec, to value: JSONValue) -> JSONValue? {
        guard let first = path.first, let index = entry.params.firstIndex(where: { $0.name == first }) else {
            return params
        }
        func set(_ container: JSONValue?, _ rest: ArraySlice<String>) -> JSONValue? {
            guard let name = rest.first else { return value }
            var object = JSONObject()
            switch container {
            case .object(let existing)?: object = existing
            case nil, .null?: break
            default: return nil
            }
            guard let member = set(object[name], rest.dropFirst()) else { return nil }
            object[name] = member
            return .object(object)
        }
        guard let updated = set(JSONParams.get(params, at: index, named: first), path.dropFirst()) else {
            return params
        }
        return JSONParams.set(params, at: index, named: first, to: updated)
    }
}
