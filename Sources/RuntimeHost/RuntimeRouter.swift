import BindingRuntime
import Foundation
import RKBindings
import RPCServer

/// Routes the generated methods to runtime host processes and owns the handles clients see.
/// Loop thread only. A handle id is the daemon's own number; behind it are the worker that holds
/// the runtime object, the worker's id for it, and the connection that owns it.
public final class RuntimeRouter: @unchecked Sendable {
    /// One vendor runtime as the daemon hosts it.
    public struct Runtime: Sendable {
        public let namespace: String
        public let library: String
        /// Each creating call gets a process of its own (one model instance per process), instead
        /// of one shared process for the namespace.
        public let processPerHandle: Bool

        public init(namespace: String, library: String, processPerHandle: Bool) {
            self.namespace = namespace
            self.library = library
            self.processPerHandle = processPerHandle
        }
    }

    private struct Handle {
        let type: String
        let worker: WorkerProcess
        let workerID: JSONValue
        let owner: UInt64
        /// Set when the worker died: every use answers this error.
        var crashed: RPCError?
    }

    private struct RuntimeState {
        let runtime: Runtime
        /// Why the runtime cannot be used (no library), from the probe at start.
        var unavailable: String?
        var resolved: [String] = []
        var missing: Set<String> = []
        var shared: WorkerProcess?
        var crashes = 0
        var started = 0
    }

    private let executable: String
    private let runTimeout: Double
    private let logger: Logger
    private var runtimes: [String: RuntimeState] = [:]
    private var order: [String] = []
    private var handles: [Int64: Handle] = [:]
    private var nextHandle: Int64 = 1
    private var workers: [ObjectIdentifier: WorkerProcess] = [:]
    private var loop: EventLoop?

    /// Probes each runtime in a short-lived host process (the daemon never loads one itself).
    public init(runtimes: [Runtime], executable: String, runTimeout: Double, logger: Logger) {
        self.executable = executable
        self.runTimeout = runTimeout
        self.logger = logger
        for pid in OrphanedWorkers.find(executable: executable) {
            logger.warn("killing runtime host \(pid) left over from a previous daemon")
            kill(pid, SIGKILL)
        }
        for runtime in runtimes {
            var state = RuntimeState(runtime: runtime)
            switch RuntimeProbe.run(executable: executable, runtime: runtime) {
            case .success(let ready):
                if case .string(let error)? = ready["error"] {
                    state.unavailable = error
                } else {
                    state.resolved = Self.strings(ready["resolved"])
                    state.missing = Set(Self.strings(ready["missing"]))
                }
            case .failure(let error):
                state.unavailable = "\(error)"
            }
            if let why = state.unavailable {
                logger.warn("\(runtime.namespace): runtime not available (\(runtime.library)): \(why)")
            } else {
                logger.info("\(runtime.namespace): \(runtime.library), \(state.resolved.count) functions resolved"
                    + (state.missing.isEmpty ? "" : ", not present: \(state.missing.sorted().joined(separator: ", "))"))
            }
            self.runtimes[runtime.namespace] = state
            order.append(runtime.namespace)
        }
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }

    /// Joins the server: disconnects release handles, shutdown stops the workers, info and stats
    /// describe the runtimes, a timer kills stalled workers.
    public func attach(to server: Server) {
        loop = server.eventLoop
        server.onDisconnect { [unowned self] connection in releaseHandles(of: connection) }
        server.onShutdown { [unowned self] in stopAll() }
        server.addInfo { [unowned self] in ("runtimes", info()) }
        server.addStats { [unowned self] in ("runtimes", stats()) }
        server.onLoop { [unowned self] in scheduleStallCheck() }
    }

    // MARK: routing

    func route(_ call: Call, entry: MethodEntry) {
        let namespace = String(entry.method.prefix { $0 != "." })
        guard let state = runtimes[namespace] else {
            return call.respond(.failure(RPCError(code: RPCError.runtimeNotAvailableCode, message: "no runtime hosts \(namespace).*")))
        }
        if let why = state.unavailable {
            return call.respond(.failure(RPCError(code: RPCError.runtimeNotAvailableCode,
                                                  message: "the \(namespace) runtime is not available: \(why)",
                                                  data: .object(["library": .string(state.runtime.library), "reason": .string(why)]))))
        }
        if let symbol = entry.symbol, state.missing.contains(symbol) {
            return call.respond(.failure(RPCError.functionNotPresent(symbol)))
        }
        let translated: (params: JSONValue?, handles: [(id: Int64, record: Handle)])
        var fds: [Int32] = []
        do {
            translated = try translateHandles(call, entry: entry)
            fds = try takeFileDescriptors(call, entry: entry)
        } catch {
            fds.forEach { close($0) }
            return call.respond(.failure(error as? RPCError ?? RPCError(code: RPCError.internalError, message: "\(error)")))
        }
        var params = translated.params
        if !fds.isEmpty { params = Self.replacingFileDescriptors(in: params, entry: entry) }
        let worker: WorkerProcess
        if let handle = translated.handles.first {
            worker = handle.record.worker
        } else {
            do {
                worker = try workerFor(namespace, fresh: entry.creates != nil && state.runtime.processPerHandle)
            } catch {
                fds.forEach { close($0) }
                return call.respond(.failure(RPCError(code: RPCError.runtimeNotAvailableCode,
                                                      message: "cannot start the \(namespace) runtime host: \(error)")))
            }
        }
        let connection = call.connection
        worker.call(method: entry.method, params: params, fds: fds, onCallback: { message in
            call.emit(message["arguments"].map { args in
                var result = JSONObject()
                if case .object(let object) = args { for (k, v) in object.pairs { result[k] = v } }
                if let userdata = message["userdata"], userdata != .null { result["userdata"] = userdata }
                return .object(result)
            } ?? .null)
        }, onAnswer: { [self] outcome, fds in
            var outcome = outcome
            if case .success(let result) = outcome {
                if entry.creates != nil, let key = entry.resultHandle, case .object(var object) = result, let workerID = object[key] {
                    object[key] = .int(register(type: entry.creates!, worker: worker, workerID: workerID, owner: connection))
                    outcome = .success(.object(object))
                }
                if let destroyed = translated.handles.first(where: { $0.record.type == entry.destroys }) { forget(destroyed.id) }
            }
            stopIfIdle(worker) // a process started for a creating call that failed
            call.respond(outcome, fds: fds)
        })
    }

    /// Replaces each handle parameter with the worker's id; checks the caller owns it. `null`
    /// means the caller's one handle of that type, when it has exactly one.
    private func translateHandles(_ call: Call, entry: MethodEntry) throws -> (JSONValue?, [(id: Int64, record: Handle)]) {
        var params = call.params
        var found: [(id: Int64, record: Handle)] = []
        for (index, spec) in entry.params.enumerated() {
            guard let type = spec.handle else { continue }
            let id = try resolve(Self.param(params, at: index, named: spec.name) ?? .null, type: type,
                                 connection: call.connection, param: spec.name)
            let record = handles[id]!
            if let crashed = record.crashed {
                if entry.destroys == type { forget(id) }
                throw crashed
            }
            if let other = found.first, other.record.worker !== record.worker {
                throw RPCError(code: RPCError.unknownHandleCode, message: "\(spec.name): a handle of another runtime host than '\(entry.params.first { $0.handle != nil }!.name)'",
                               data: .object(["param": .string(spec.name)]))
            }
            found.append((id, record))
            params = Self.setting(params, at: index, named: spec.name, to: record.workerID)
        }
        return (params, found)
    }

    /// A parameter in either JSON-RPC form: by position in an array, by name in an object.
    private static func param(_ params: JSONValue?, at index: Int, named name: String) -> JSONValue? {
        switch params {
        case .array(let items)?: return index < items.count ? items[index] : nil
        case .object(let object)?: return object[name]
        default: return nil
        }
    }

    /// `params` with one parameter set, in the form the client used (an object when there were none).
    private static func setting(_ params: JSONValue?, at index: Int, named name: String, to value: JSONValue) -> JSONValue {
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

    /// One descriptor per fd parameter, from those the client sent with the request (in order).
    private func takeFileDescriptors(_ call: Call, entry: MethodEntry) throws -> [Int32] {
        var fds: [Int32] = []
        for spec in entry.params where spec.fd {
            guard let fd = call.takeFileDescriptor() else {
                fds.forEach { close($0) }
                throw RPCError.invalidParams(spec.name, "send the file descriptor with the request (SCM_RIGHTS)")
            }
            fds.append(fd)
        }
        return fds
    }

    /// The worker reads an fd parameter as the index of the descriptor sent with the call.
    private static func replacingFileDescriptors(in params: JSONValue?, entry: MethodEntry) -> JSONValue? {
        var index: Int64 = 0
        var params = params
        for (position, spec) in entry.params.enumerated() where spec.fd {
            params = setting(params, at: position, named: spec.name, to: .int(index))
            index += 1
        }
        return params
    }

    private func resolve(_ value: JSONValue, type: String, connection: UInt64, param: String) throws -> Int64 {
        if value == .null {
            let mine = handles.filter { $0.value.owner == connection && $0.value.type == type }
            guard mine.count == 1, let only = mine.first else {
                throw RPCError(code: RPCError.unknownHandleCode,
                               message: "\(param): null means your one \(type), and you have \(mine.count)",
                               data: .object(["param": .string(param)]))
            }
            return only.key
        }
        guard case .int(let id) = value, let record = handles[id], record.type == type, record.owner == connection else {
            throw RPCError(code: RPCError.unknownHandleCode, message: "\(param): unknown \(type) handle \(value.jsonText)",
                           data: .object(["param": .string(param)]))
        }
        return id
    }

    private func register(type: String, worker: WorkerProcess, workerID: JSONValue, owner: UInt64) -> Int64 {
        let id = nextHandle
        nextHandle += 1
        handles[id] = Handle(type: type, worker: worker, workerID: workerID, owner: owner)
        return id
    }

    /// Drops a handle; its process, if of its own and now idle, is stopped.
    private func forget(_ id: Int64) {
        guard let record = handles.removeValue(forKey: id) else { return }
        stopIfIdle(record.worker)
    }

    /// A process of its own (not the namespace's shared one) with no handle and no call left.
    private func stopIfIdle(_ worker: WorkerProcess) {
        let isShared = runtimes[worker.namespace]?.shared === worker
        if !isShared && worker.inFlight == 0 && !handles.values.contains(where: { $0.worker === worker }) {
            worker.stop()
            workers[ObjectIdentifier(worker)] = nil
        }
    }

    // MARK: workers

    private func workerFor(_ namespace: String, fresh: Bool) throws -> WorkerProcess {
        if !fresh, let shared = runtimes[namespace]?.shared, !shared.closing { return shared }
        guard let loop, let state = runtimes[namespace] else { throw RPCError(code: RPCError.internalError, message: "not attached") }
        let worker = try WorkerProcess(executable: executable, namespace: namespace, library: state.runtime.library, loop: loop, logger: logger)
        runtimes[namespace]?.started += 1
        if !fresh { runtimes[namespace]?.shared = worker }
        workers[ObjectIdentifier(worker)] = worker
        worker.whenDead { [unowned self, unowned worker] error in died(worker, error) }
        return worker
    }

    private func died(_ worker: WorkerProcess, _ error: RPCError) {
        workers[ObjectIdentifier(worker)] = nil
        if runtimes[worker.namespace]?.shared === worker { runtimes[worker.namespace]?.shared = nil }
        if !worker.stoppedByDaemon { runtimes[worker.namespace]?.crashes += 1 }
        for (id, record) in handles where record.worker === worker {
            handles[id]?.crashed = error
        }
    }

    /// A client that goes loses its handles: each is destroyed in its runtime (no one to answer).
    private func releaseHandles(of connection: UInt64) {
        for (id, record) in handles where record.owner == connection {
            handles[id] = nil
            let worker = record.worker
            if record.crashed == nil, let destroy = destroyMethod(for: record.type) {
                worker.call(method: destroy, params: .array([record.workerID]), onCallback: { _ in },
                            onAnswer: { [unowned self] _, fds in
                                fds.forEach { close($0) }
                                stopIfIdle(worker)
                            })
            } else {
                stopIfIdle(worker)
            }
        }
    }

    private func destroyMethod(for type: String) -> String? {
        DispatchTable.entries.first { $0.destroys == type && $0.params.count == 1 && $0.params[0].handle == type }?.method
    }

    /// Shutdown: every runtime host is stopped and every handle forgotten.
    private func stopAll() {
        let error = RPCError(code: RPCError.shuttingDownCode, message: "server shutting down")
        for worker in workers.values { worker.stop(error: error) }
        workers.removeAll()
        handles.removeAll()
        for namespace in order { runtimes[namespace]?.shared = nil }
    }

    private func scheduleStallCheck() {
        guard let loop else { return }
        loop.schedule(after: min(1, max(0.05, runTimeout / 4))) { [unowned self] in
            let now = EventLoop.now()
            for worker in workers.values {
                if let oldest = worker.oldestProgress, Double(now - oldest) / 1e9 > runTimeout {
                    worker.kill(reason: "no progress for \(runTimeout) s")
                }
            }
            scheduleStallCheck()
        }
    }

    // MARK: introspection

    private func info() -> JSONValue {
        .array(order.compactMap { runtimes[$0] }.map { state in
            var object: JSONObject = [
                "namespace": .string(state.runtime.namespace),
                "library": .string(state.runtime.library),
                "available": .bool(state.unavailable == nil),
            ]
            if let why = state.unavailable { object["reason"] = .string(why) }
            object["resolved"] = .array(state.resolved.map { .string($0) })
            object["not_present"] = .array(state.missing.sorted().map { .string($0) })
            object["process_per_handle"] = .bool(state.runtime.processPerHandle)
            return .object(object)
        })
    }

    private func stats() -> JSONValue {
        .object(JSONObject(order.compactMap { runtimes[$0] }.map { state in
            let live = workers.values.filter { $0.namespace == state.runtime.namespace }
            return (state.runtime.namespace, .object([
                "hosts_running": .int(Int64(live.count)),
                "hosts_started": .int(Int64(state.started)),
                "crashes": .int(Int64(state.crashes)),
                "handles": .int(Int64(handles.values.filter { $0.worker.namespace == state.runtime.namespace }.count)),
                "calls_in_flight": .int(Int64(live.map(\.inFlight).reduce(0, +))),
            ]))
        }))
    }
}
