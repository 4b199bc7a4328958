import BindingRuntime
import Foundation
import RPCServer

/// Routes the generated methods to runtime host processes and owns what clients see of them:
/// handles (the daemon's own numbers, owned by the connection that got them), the objects behind
/// them (shared between clients where the runtime allows), and one stream at a time per object.
/// Loop thread only.
public final class RuntimeRouter: @unchecked Sendable {
    /// Scheduling limits and what one client may hold.
    public struct Limits: Sendable {
        public var runTimeout: Double
        /// Seconds a shared object stays loaded after its last handle goes.
        public var keepAlive: Double
        /// Streams waiting per object before a "busy" error.
        public var maxQueue: Int
        /// Seconds a stream may wait in the queue; 0 = no limit.
        public var queueTimeout: Double
        /// The most one client may hold in runtime hosts.
        public var quota: Holdings
        /// Runtime host processes at once.
        public var maxHosts: Int

        public init(
            runTimeout: Double, keepAlive: Double, maxQueue: Int, queueTimeout: Double, quota: Holdings, maxHosts: Int
        ) {
            self.runTimeout = runTimeout
            self.keepAlive = keepAlive
            self.maxQueue = maxQueue
            self.queueTimeout = queueTimeout
            self.quota = quota
            self.maxHosts = maxHosts
        }
    }

    typealias Handle = HandleRegistry<RuntimeObject>.Handle

    struct RuntimeState {
        let runtime: RuntimeSetup
        /// The table of the library's version (the default one while no library is loaded).
        var table: RuntimeTable
        /// The library in use (the fallback when the first is not installed).
        var library: String
        /// Why the runtime cannot be used (no library, another ABI), from the probe at start.
        var unavailable: String?
        /// The library's version (said or found in its file), when known.
        var libraryVersion: String?
        /// Each `MethodSpec.defaults` method's answer, from the probe.
        var defaults: [String: JSONValue] = [:]
        var resolved: [String] = []
        var missing: Set<String> = []
        var crashes = 0
        /// Destroying calls made for no client (a keep-alive ending, a client gone) that failed.
        var destroyFailures = 0
        var started = 0
        /// Traffic with hosts that have ended (live ones count their own).
        var bytesFromEnded = 0
        var bytesToEnded = 0
    }

    let limits: Limits
    let logger: Logger
    var runtimes: [String: RuntimeState] = [:]
    /// The namespaces in the order the runtimes were given.
    private(set) var order: [String] = []
    @LoopBound var handles = HandleRegistry<RuntimeObject>()
    /// What each client holds (and has reserved for creating calls under way).
    @LoopBound var holdings: [UInt64: Holdings] = [:]
    /// The runtime host processes, and whose each is.
    let hostPool: HostPool
    /// Shared objects by their creating call's canonical parameters, loading ones, instance values.
    @LoopBound var sharedObjects = SharedObjectCache<RuntimeObject, Call>()
    /// The device's cores, per namespace of a runtime whose clients have hosts of their own.
    @LoopBound var cores: [String: DeviceCores] = [:]
    /// Clients getting an object of their own (RuntimeRouter+Privacy), as "connection object".
    @LoopBound var separating: Set<String> = []
    /// The runtimes with a model load under way, and the loads waiting for their turn
    /// (RuntimeRouter+Loads).
    @LoopBound var loadRunning: Set<String> = []
    @LoopBound var loadsWaiting: [String: [WaitingLoad]] = [:]
    /// Where shared creating calls' file paths are resolved: off the loop, one after another.
    let pathResolution = DispatchQueue(label: "rkllm-server.path-resolution")
    var loop: EventLoop?
    // Unowned, not weak: a weak reference would move the server's reference counts to a side table
    // and slow every retain of it on the request path.
    private unowned var server: Server?

    /// Probes each runtime in a short-lived host process (the daemon never loads one itself).
    public init(runtimes: [RuntimeSetup], limits: Limits, logger: Logger) {
        self.limits = limits
        self.logger = logger
        hostPool = HostPool(logger: logger)
        for pid in OrphanedHosts.find(executables: Set(runtimes.flatMap { $0.tables.map(\.host) })) {
            logger.warn("killing runtime host \(pid) left over from a previous daemon")
            kill(pid, SIGKILL)
        }
        for runtime in runtimes {
            let state = Self.probe(runtime, logger: logger)
            self.runtimes[runtime.namespace] = state
            order.append(runtime.namespace)
        }
    }

    /// The table each runtime is served with: the one of its library's version.
    public func table(of namespace: String) -> RuntimeTable? { runtimes[namespace]?.table }

    /// Which library of the runtime loads, which table speaks its version, and which of that
    /// table's symbols it resolves.
    private static func probe(_ runtime: RuntimeSetup, logger: Logger) -> RuntimeState {
        var state = RuntimeState(runtime: runtime, table: runtime.tables[0], library: runtime.library)
        let libraries = [runtime.library] + (runtime.fallbackLibrary.map { [$0] } ?? [])
        probing: for library in libraries {
            state = RuntimeState(runtime: runtime, table: runtime.tables[0], library: library)
            var probed = probe(state.table, library: library, matched: false, runtime: runtime)
            if case .success(let ready) = probed, ready["error"] == nil {
                // A library that is there but speaks no table's ABI: not used, and no fallback instead.
                switch chooseTable(of: runtime, ready: ready, library: library, logger: logger) {
                case .success(let (table, version)):
                    state.libraryVersion = version
                    // Probed again by the host of its version's table, which may call it now.
                    if table.host != state.table.host
                        || table.description.methods.contains(where: { !$0.defaults.isEmpty })
                    {
                        state.table = table
                        probed = probe(table, library: library, matched: true, runtime: runtime)
                    }
                case .failure(let refusal):
                    state.unavailable = refusal.description
                    logger.error("\(runtime.namespace): runtime not available: \(refusal)")
                    break probing
                }
            }
            switch probed {
            case .success(let ready):
                if case .string(let error)? = ready["error"] {
                    state.unavailable = error
                } else {
                    state.resolved = strings(ready["resolved"])
                    state.missing = Set(strings(ready["missing"]))
                    if case .object(let defaults)? = ready["defaults"] {
                        state.defaults = Dictionary(uniqueKeysWithValues: defaults.pairs)
                    }
                    if case .string(let note)? = ready["memory_limit"] { logger.warn("\(runtime.namespace): \(note)") }
                }
            case .failure(let error):
                state.unavailable = "\(error)"
            }
            if let why = state.unavailable {
                if library == libraries.last {
                    logger.warn("\(runtime.namespace): runtime not available (\(library)): \(why)")
                } else {
                    logger.info("\(runtime.namespace): \(library) not loaded (\(why)); trying \(libraries.last!)")
                }
                continue
            }
            logger.info(
                "\(runtime.namespace): \(library)\(library == runtime.library ? "" : " (simulated runtime: \(runtime.library) is not installed)"), "
                    + (state.table.manifest.abiVersion.map { "ABI \($0), " } ?? "")
                    + "\(state.resolved.count) functions resolved"
                    + (state.missing.isEmpty ? "" : ", not present: \(state.missing.sorted().joined(separator: ", "))"))
            break
        }
        return state
    }

    /// `matched`: the library's version is the table's, so the host may call it.
    private static func probe(_ table: RuntimeTable, library: String, matched: Bool, runtime: RuntimeSetup) -> Result<
        JSONValue, RuntimeProbe.Failure
    > {
        RuntimeProbe.run(
            executable: table.host, namespace: runtime.namespace, library: library, matched: matched,
            settings: runtime.hostSettings)
    }

    /// The table of the library's version (ABICheck), with the version when it is known.
    private static func chooseTable(of runtime: RuntimeSetup, ready: JSONValue, library: String, logger: Logger)
        -> Result<(RuntimeTable, String?), RuntimeProbe.Failure>
    {
        guard runtime.manifest.abiVersion != nil else { return .success((runtime.tables[0], nil)) }
        var found: String?
        if case .string(let version)? = ready["library_version"] { found = version }
        let setting = runtime.manifest.abiSetting.flatMap { name in
            runtime.manifest.settings.first { $0.name == name }?.flag
        }
        let table = { (version: String) in runtime.tables.first { $0.version == version } ?? runtime.tables[0] }
        switch ABICheck.decide(
            tables: runtime.tables.map(\.version), library: library, found: found, said: runtime.librarySaidVersion,
            setting: setting)
        {
        case .matches(let tableVersion, let libraryVersion): return .success((table(tableVersion), libraryVersion))
        case .assumed(let tableVersion, let note):
            logger.warn("\(runtime.namespace): \(note)")
            return .success((table(tableVersion), nil))
        case .differs(let reason): return .failure(RuntimeProbe.Failure(description: reason))
        }
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }

    /// Joins the server: disconnects release handles, shutdown stops the hosts, info and stats
    /// describe the runtimes, a timer kills stalled hosts.
    public func attach(to server: Server) {
        loop = server.eventLoop
        hostPool.loop = server.eventLoop
        self.server = server
        server.onDisconnect { [unowned self] connection in disconnected(connection) }
        server.onShutdown { [unowned self] in stopAll() }
        server.addInfo { [unowned self] in ("runtimes", info()) }
        server.addStats { [unowned self] in ("runtimes", stats()) }
        server.onLoop { [unowned self] in scheduleStallCheck() }
    }

    // MARK: routing

    /// A call on its way to a runtime host: its parameters with the host's handles and the
    /// caller's per-run values, the handles it uses, the descriptors it takes.
    struct Routed {
        var params: JSONValue?
        /// The parameters as the client gave them (its names canonical, left-out handles filled in).
        let given: JSONValue?
        let used: [(id: Int64, handle: Handle)]
        var fds: [Int32]
        var target: (id: Int64, handle: Handle)? { used.first }
    }

    /// `taken`: the descriptors of a call routed again (they were taken from its line the first time).
    func route(_ call: Call, entry: MethodSpec, taken: [Int32]? = nil) {
        let state: RuntimeState
        switch admission(of: call, entry: entry) {
        case .success(let admitted): state = admitted
        case .failure(let refusal): return call.respond(.failure(refusal))
        }
        let routed: Routed
        do {
            routed = try prepare(call, entry: entry, taken: taken)
        } catch {
            return call.respond(.failure(RPCError.from(error)))
        }
        let fds = routed.fds
        if let object = routed.target?.handle.object, object.shareKey != nil, !object.isPrivate,
            Self.changesSharedState(entry, params: routed.given),
            !makeOwn(object, for: call, entry: entry, fds: fds)
        {
            return
        }
        let share = Self.share(of: entry, params: routed.params, fds: fds.count)
        if entry.creates != nil {
            do {
                try reserve(share, for: call.connection)
            } catch {
                fds.forEach { close($0) }
                return call.respond(.failure(RPCError.from(error)))
            }
        }
        // Only a plain call and a stream pass descriptors on: a shared object is no one client's
        // to hold them, a shared destroy is a release, and an abort stops the caller's own stream.
        switch (entry.kind, routed.target) {
        case (.createsShared, _):
            fds.forEach { close($0) }
            createShared(call, entry: entry, params: routed.params, state: state, share: share)
        case (.destroys, let target?)
        where target.handle.object.shareKey != nil
            && entry.destroys == target.handle.object.type:
            fds.forEach { close($0) }
            release(target.id)
            call.respond(.success(.object([:])))
        case (.aborts, let target?) where entry.aborts == target.handle.object.type:
            fds.forEach { close($0) }
            abortOwnStream(call, entry: entry, params: routed.params, on: target.handle.object)
        case (.streams, let target?):
            stream(call, entry: entry, params: routed.params, fds: fds, on: target.handle.object)
        default:
            sendPlain(call, entry: entry, routed, share: share)
        }
    }

    /// The runtime's state when `call` may go to it: the runtime is there and loaded, has the
    /// method's symbol, and the caller may call the method; else the refusal.
    private func admission(of call: Call, entry: MethodSpec) -> Result<RuntimeState, RPCError> {
        let namespace = String(entry.method.prefix { $0 != "." })
        guard let state = runtimes[namespace] else {
            return .failure(
                RPCError(code: RPCError.Code.runtimeNotAvailable, message: "no runtime hosts \(namespace).*"))
        }
        if let why = state.unavailable {
            return .failure(
                RPCError(
                    code: RPCError.Code.runtimeNotAvailable,
                    message: "the \(namespace) runtime is not available: \(why)",
                    data: .object(["library": .string(state.library), "reason": .string(why)])))
        }
        if let symbol = entry.symbol, state.missing.contains(symbol) {
            return .failure(RPCError.functionNotPresent(symbol))
        }
        if entry.privileged && call.peer.uid != 0 {
            return .failure(
                RPCError(
                    code: RPCError.Code.notPermitted, message: "\(entry.method) is for root peers only",
                    data: .object(["uid": .int(Int64(call.peer.uid))])))
        }
        return .success(state)
    }

    /// The call's parameters for the host: names made canonical, handles translated (each must be
    /// the caller's), the caller's per-run values given, its descriptors taken.
    private func prepare(_ call: Call, entry: MethodSpec, taken: [Int32]?) throws -> Routed {
        let given = Self.handlesLeftOut(try entry.canonicalNames(call.params), entry: entry)
        var (params, used) = try translateHandles(call, entry: entry, given: given)
        if let handle = used.first?.handle { params = Self.giving(handle.runValues, to: params, entry: entry) }
        let fds: [Int32]
        (params, fds) = try takeFileDescriptors(call, entry: entry, params: params, taken: taken)
        return Routed(params: params, given: given, used: used, fds: fds)
    }

    /// A call that is neither a shared creation, a shared release, an abort nor a stream: sent as
    /// it is (a destroy marks its handle as going first, so calls behind it are refused).
    private func sendPlain(_ call: Call, entry: MethodSpec, _ routed: Routed, share: Holdings) {
        let destroyed = routed.used.first { $0.handle.object.type == entry.destroys }
        if let destroyed { handles.setDestroying(destroyed.id, true) }
        let related = Dictionary(routed.used.map { ($0.handle.object.type, $0.handle.object.hostID) }) { first, _ in
            first
        }
        send(
            call, entry: entry, params: routed.params, fds: routed.fds, on: routed.target?.handle.object,
            destroying: destroyed?.id, related: related, share: share)
    }

    /// The plain path: one call to the runtime host, its answer to the client (a created handle
    /// registered, a destroyed one forgotten). A blocking call on an object runs alone on it.
    /// `share`: what a creating call reserved of its client's quota (kept by the new handle).
    private func send(
        _ call: Call, entry: MethodSpec, params: JSONValue?, fds: [Int32], on object: RuntimeObject?,
        destroying: Int64?, related: [String: JSONValue], share: Holdings
    ) {
        let namespace = String(entry.method.prefix { $0 != "." })
        let connection = call.connection
        let host: HostProcess
        do {
            host = try object?.host ?? findHost(namespace, client: connection, creating: entry.creates)
        } catch {
            fds.forEach { close($0) }
            if entry.creates != nil { giveBack(share, for: connection) }
            return call.respond(.failure(Self.hostNotStarted(namespace, error)))
        }
        let sent = fds.count
        let onCore = entry.blocking && runtimes[namespace]?.runtime.hosting == .perClient
        let forwarded = Self.forwarded(call, sending: params, entry: entry)
        let start = { [self] (done: @escaping () -> Void) in
            guard !onCore || isConnected(connection) else {  // its client left while it waited for a core
                fds.forEach { close($0) }
                if entry.creates != nil { giveBack(share, for: connection) }
                releaseCore(namespace)
                done()
                return stopIfIdle(host)
            }
            host.call(
                method: entry.method, params: params, forwarded: forwarded, fds: fds,
                onCallback: { call.emit(text: $0) },
                onAnswer: { [self] outcome, fds in
                    if onCore { releaseCore(namespace) }
                    answer(
                        call, entry: entry, outcome, fds: fds, host: host, destroying: destroying, related: related,
                        share: share, sent: sent)
                    done()
                })
        }
        let onDevice = { (done: @escaping () -> Void) in
            if onCore { self.onACore(namespace) { start(done) } } else { start(done) }
        }
        if let object, entry.blocking {
            runAlone(call, isStream: false, fds: fds, on: object) { _, done in onDevice(done) }
        } else {
            onDevice {}
        }
    }

    /// A plain call's answer: a created object registered (its client's quota settled), a
    /// destroyed handle forgotten, an idle host stopped.
    private func answer(
        _ call: Call, entry: MethodSpec, _ outcome: Result<JSONValue, RPCError>, fds: [Int32], host: HostProcess,
        destroying: Int64?, related: [String: JSONValue], share: Holdings, sent: Int
    ) {
        let connection = call.connection
        var outcome = outcome
        var registered = false
        if case .success(let result) = outcome {
            if let type = entry.creates, let key = entry.resultHandle, case .object(var object) = result,
                let hostID = object[key]
            {
                let created = RuntimeObject(
                    type: type, createdBy: entry.method, host: host, hostID: hostID, related: related)
                guard isConnected(connection) else {  // its client left meanwhile
                    giveBack(share, for: connection)
                    return destroy(created)
                }
                let held = settle(share, descriptorsSent: sent, handedOut: fds.count, for: connection)
                object[key] = .int(register(created, owner: connection, share: held))
                outcome = .success(.object(object))
                registered = true
            }
            if let destroying { forget(destroying) }
        } else if let destroying {
            handles.setDestroying(destroying, false)  // the object lives on: its handle serves again
        }
        if entry.creates != nil && !registered { giveBack(share, for: connection) }
        stopIfIdle(host)  // a process started for a creating call that failed
        call.respond(outcome, fds: fds)
    }

    /// Why a creating call found no runtime host: the cap's own error, or the start's failure.
    static func hostNotStarted(_ namespace: String, _ error: Error) -> RPCError {
        error as? RPCError
            ?? RPCError(
                code: RPCError.Code.runtimeNotAvailable, message: "cannot start the \(namespace) runtime host: \(error)"
            )
    }

    func isConnected(_ connection: UInt64) -> Bool { server?.isConnected(connection) ?? false }

    /// Replaces each handle parameter with the host's id; checks the caller owns it. `null`
    /// means the caller's one handle of that type, when it has exactly one, and so does a handle
    /// left out of a positional array that is short of it (`[{"lora_adapter_path": ...}]`).
    private func translateHandles(_ call: Call, entry: MethodSpec, given: JSONValue?) throws -> (
        JSONValue?, [(id: Int64, handle: Handle)]
    ) {
        var params = given
        var found: [(id: Int64, handle: Handle)] = []
        for (index, spec) in entry.params.enumerated() {
            guard let type = spec.handle else { continue }
            let id = try handles.resolve(
                JSONParams.get(params, at: index, named: spec.name) ?? .null, type: type, owner: call.connection,
                param: spec.name)
            let handle = handles[id]!
            if let crashed = handle.object.crashed {
                if entry.destroys == type { forget(id) }
                throw crashed
            }
            if let other = found.first, other.handle.object.host !== handle.object.host {
                throw RPCError(
                    code: RPCError.Code.unknownHandle,
                    message:
                        "\(spec.name): a handle of another runtime host than '\(entry.params.first { $0.handle != nil }!.name)'",
                    data: .object(["param": .string(spec.name)]))
            }
            found.append((id, handle))
            params = JSONParams.set(params, at: index, named: spec.name, to: handle.object.hostID)
        }
        return (params, found)
    }

    /// A positional array with fewer values than the method has parameters, whose value at a
    /// handle parameter is no handle id (neither an integer nor null): the handle was left out, so
    /// a null goes in its place.
    static func handlesLeftOut(_ params: JSONValue?, entry: MethodSpec) -> JSONValue? {
        guard case .array(var items)? = params else { return params }
        for (index, spec) in entry.params.enumerated() where spec.handle != nil && items.count < entry.params.count {
            guard index < items.count else { break }
            switch items[index] {
            case .int, .uint, .null: continue
            default: items.insert(.null, at: index)
            }
        }
        return .array(items)
    }

    /// One descriptor per fd parameter, from those the client sent with the request (in order);
    /// the parameter becomes the index of the descriptor sent with the call.
    private func takeFileDescriptors(_ call: Call, entry: MethodSpec, params: JSONValue?, taken: [Int32]?) throws -> (
        JSONValue?, [Int32]
    ) {
        var fds: [Int32] = []
        var params = params
        var supply = taken?[...]
        for (position, spec) in entry.params.enumerated() where spec.fd {
            guard let fd = supply != nil ? supply!.popFirst() : call.takeFileDescriptor() else {
                fds.forEach { close($0) }
                throw RPCError.invalidParams(spec.name, "send the file descriptor with the request (SCM_RIGHTS)")
            }
            params = JSONParams.set(params, at: position, named: spec.name, to: .int(Int64(fds.count)))
            fds.append(fd)
        }
        return (params, fds)
    }

    /// A new handle of `owner` on `object`, holding `share` of its quota (reserved already).
    func register(
        _ object: RuntimeObject, owner: UInt64, share: Holdings, runValues: [(path: [String], value: JSONValue)] = []
    ) -> Int64 {
        object.references += 1
        return handles.register(object, owner: owner, share: share, runValues: runValues)
    }

    /// Drops a handle of an object the runtime has destroyed (or whose host died).
    private func forget(_ id: Int64) {
        guard let handle = handles.remove(id) else { return }
        giveBack(handle.share, for: handle.owner)
        handle.object.references -= 1
        stopIfIdle(handle.object.host)
    }

    /// Stops a runtime host with no object and no call left: at once a process of its own, or a
    /// client's once the client has gone (while it is there, its next call needs no new process);
    /// the namespace's shared one, where objects get processes of their own (it only answers calls
    /// without a handle), after the keep-alive, like an idle model.
    func stopIfIdle(_ host: HostProcess) {
        guard host.inFlight == 0, !holdsObjects(host) else { return }
        if let client = hostPool.client(of: host) {
            if isConnected(client) { return }
            return stop(host)
        }
        guard hostPool.isShared(host) else { return stop(host) }
        guard case .perInstance? = runtimes[host.namespace]?.runtime.hosting, let loop else { return }
        loop.schedule(after: limits.keepAlive) { [weak self, weak host] in
            guard let self, let host, hostPool.isShared(host), host.inFlight == 0, !holdsObjects(host) else { return }
            logger.info("\(host.namespace) runtime host unused for \(limits.keepAlive) s: stopping")
            stop(host)
        }
    }

    func stop(_ host: HostProcess) { hostPool.stop(host) }

    private func holdsObjects(_ host: HostProcess) -> Bool {
        handles.all.contains { $0.object.host === host }
            || sharedObjects.objects.values.contains { $0.host === host }
    }

    /// Every object a handle or the shared index holds, once each.
    func liveObjects() -> [RuntimeObject] {
        var seen = Set<ObjectIdentifier>()
        return (handles.all.map(\.object) + sharedObjects.objects.values).filter {
            seen.insert(ObjectIdentifier($0)).inserted
        }
    }

    // MARK: hosts

    /// The host for a call of `client` without a handle (`nil`: of no one client, a shared
    /// object's load) that creates an object of type `creating`, if any, per the runtime's
    /// hosting: started when there is none.
    func findHost(_ namespace: String, client: UInt64?, creating: String?) throws -> HostProcess {
        try hostPool.find(
            namespace, hosting: runtimes[namespace]?.runtime.hosting, client: client, creating: creating
        ) { try startHost(namespace) }
    }

    private func startHost(_ namespace: String) throws -> HostProcess {
        guard let state = runtimes[namespace] else {
            throw RPCError(code: RPCError.Code.internalError, message: "no runtime hosts \(namespace).*")
        }
        try checkHostCap()
        let launch = HostPool.Launch(
            executable: state.table.host, library: state.library, settings: state.runtime.hostSettings)
        let host = try hostPool.start(namespace, launch) { [unowned self] host, error in died(host, error) }
        runtimes[namespace]?.started += 1
        return host
    }

    /// A host that ended: its traffic counted, a crash counted, its objects crashed with it.
    private func died(_ host: HostProcess, _ error: RPCError) {
        runtimes[host.namespace]?.bytesFromEnded += host.bytesFromHost
        runtimes[host.namespace]?.bytesToEnded += host.bytesToHost
        if !host.stoppedByDaemon { runtimes[host.namespace]?.crashes += 1 }
        for object in liveObjects() where object.host === host && object.crashed == nil {
            object.crashed = error
            failWaiting(on: object, error)
            sharedObjects.remove(object, key: object.shareKey)
            sharedObjects.returnInstanceValue(object.instanceValue, in: host.namespace)
        }
    }

    /// A client that goes: its streams end (the running one aborted, queued ones dropped) and
    /// its handles are released.
    private func disconnected(_ connection: UInt64) {
        abandonStreams(of: connection)
        // Newest first: what was made with a context (its memory) goes before the context.
        for id in handles.owned(by: connection) { release(id) }
        for host in hostPool.hosts(of: connection) { stopIfIdle(host) }
    }

    /// Destroys an object in its runtime (no client waits for the answer).
    func destroy(_ object: RuntimeObject) {
        let host = object.host
        sharedObjects.remove(object, key: object.shareKey)
        guard object.crashed == nil, let destroy = destroyCall(for: object) else { return stopIfIdle(host) }
        host.call(
            method: destroy.method, params: destroy.params,
            onAnswer: { [unowned self] outcome, fds in
                fds.forEach { close($0) }
                // No client waits for this answer: a failure is logged and counted, not lost.
                // Unless the daemon is stopping the host, and the object with it.
                if case .failure(let error) = outcome, error.code != RPCError.Code.shuttingDown {
                    runtimes[host.namespace]?.destroyFailures += 1
                    logger.warn(
                        "\(object.type) \(object.hostID.jsonText): \(destroy.method) failed: \(error.message)")
                }
                sharedObjects.returnInstanceValue(object.instanceValue, in: host.namespace)
                stopIfIdle(host)
            })
    }

    /// The call that destroys an object: the method the manifest names for what its creating
    /// method made, with the handles the object is or was made with.
    func destroyCall(for object: RuntimeObject) -> (method: String, params: JSONValue)? {
        guard let table = runtimes[object.host.namespace]?.table,
            let method = table.manifest.destroyMethods[object.createdBy],
            let entry = table.description.methods.first(where: { $0.method == method })
        else { return nil }
        let params = entry.params.map { spec in
            spec.handle == object.type ? object.hostID : spec.handle.flatMap { object.related[$0] }
        }
        guard params.allSatisfy({ $0 != nil }) else { return nil }
        return (entry.method, .array(params.map { $0! }))
    }

    /// Shutdown: every runtime host is stopped and every handle forgotten.
    private func stopAll() {
        let error = RPCError(code: RPCError.Code.shuttingDown, message: "server shutting down")
        cancelWaitingLoads(error)
        for object in liveObjects() { failWaiting(on: object, error) }
        hostPool.stopAll(error)
        handles.removeAll()
        holdings.removeAll()
        sharedObjects.removeAll()
    }

    private func scheduleStallCheck() {
        guard let loop else { return }
        loop.schedule(after: min(1, max(0.05, limits.runTimeout / 4))) { [unowned self] in
            hostPool.killStalled(after: limits.runTimeout)
            scheduleStallCheck()
        }
    }

    // MARK: introspection

    private func info() -> JSONValue {
        .array(
            order.compactMap { runtimes[$0] }.map { state in
                var object: JSONObject = [
                    "namespace": .string(state.runtime.namespace),
                    "library": .string(state.library),
                    "available": .bool(state.unavailable == nil),
                ]
                if state.library != state.runtime.library { object["instead_of"] = .string(state.runtime.library) }
                if let why = state.unavailable { object["reason"] = .string(why) }
                object["resolved"] = .array(state.resolved.map { .string($0) })
                object["not_present"] = .array(state.missing.sorted().map { .string($0) })
                object["hosting"] = .string(state.runtime.hosting.name)
                if let abi = state.table.manifest.abiVersion { object["abi"] = .string(abi) }
                let versions = state.runtime.tables.compactMap(\.manifest.abiVersion)
                if versions.count > 1 { object["abis"] = .array(versions.map { .string($0) }) }
                if let version = state.libraryVersion { object["library_version"] = .string(version) }
                return .object(object)
            })
    }

    private func stats() -> JSONValue {
        .object(
            JSONObject(
                order.compactMap { runtimes[$0] }.map { state in
                    let namespace = state.runtime.namespace
                    let live = hostPool.all.values.filter { $0.namespace == namespace }
                    let objects = liveObjects().filter { $0.host.namespace == namespace }
                    return (
                        namespace,
                        .object([
                            "hosts_running": .int(Int64(live.count)),
                            "hosts_started": .int(Int64(state.started)),
                            "crashes": .int(Int64(state.crashes)),
                            "destroy_failures": .int(Int64(state.destroyFailures)),
                            "handles": .int(
                                Int64(handles.all.filter { $0.object.host.namespace == namespace }.count)),
                            "objects": .int(Int64(objects.count)),
                            "streams_running": .int(Int64(objects.filter { $0.calls.running?.isStream == true }.count)),
                            "streams_queued": .int(
                                Int64(objects.map { $0.calls.waiting.filter(\.isStream).count }.reduce(0, +))),
                            "calls_in_flight": .int(Int64(live.map(\.inFlight).reduce(0, +))),
                            "bytes_to_hosts": .int(Int64(state.bytesToEnded + live.map(\.bytesToHost).reduce(0, +))),
                            "bytes_from_hosts": .int(
                                Int64(state.bytesFromEnded + live.map(\.bytesFromHost).reduce(0, +))),
                        ])
                    )
                }))
    }
}

/// A parameter in either JSON-RPC form: by position in an array, by name in an object.
enum JSONParams {
    static func get(_ params: JSONValue?, at index: Int, named name: String) -> JSONValue? {
        switch params {
        case .array(let items)?: return index < items.count ? items[index] : nil
        case .object(let object)?: return object[name]
        default: return nil
        }
    }

    /// `params` with one parameter set, in the form the client used (an object when there were none).
    static func set(_ params: JSONValue?, at index: Int, named name: String, to value: JSONValue) -> JSONValue {
        switch params {
        case .array(var items)?:
            while items.count <= index { items.append(.null) }
            items[index] = value
            return .array(items)
        case .object(var object)?:
            object[name] = value
            return .object(object)
        default:
            return .object([name: value])
        }
    }
}
