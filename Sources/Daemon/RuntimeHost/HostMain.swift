import BindingRuntime
import CLinux
import Foundation
import RPCServer

/// The runtime host process: a header set's host executable (`rkllm-host-1.3.0 --runtime-host NAMESPACE
/// --library PATH --parent PID`), started by the daemon with one end of a socketpair as fd 3. It
/// dlopens the runtime, resolves the generated table's symbols and runs the entries the daemon sends
/// (JSON-RPC lines with internal ids), blocking ones on threads of their own. It never touches a
/// client socket; it dies with the daemon.
public enum HostMain {
    static let channelFD: Int32 = 3
    /// The daemon's notification that asks the stream of a call in flight (`{"id": call}`) to pause.
    static let pauseMethod = "$/pause"

    /// What a host the daemon starts does: serve calls, or load the library, report on it in its
    /// `$/ready` and exit. A probe calls nothing in the library (its version, which picks the
    /// table, is not known yet), except once the daemon has matched the library's version with
    /// this host's table: then it also reports the defaults of what the table's calls give per run.
    enum Mode: String {
        case serve = ""
        case probe = "--probe"
        case probeMatched = "--probe-matched"
    }

    /// Runs the runtime host when the command line is host mode (HostSettings has it whole),
    /// with the table of the runtime it names; nil when it is not host mode.
    public static func runIfRuntimeHost(_ arguments: [String], runtimes: [HostedRuntime]) -> Int32? {
        guard arguments.count >= 6, arguments[0] == "--runtime-host", arguments[2] == "--library",
            arguments[4] == "--parent",
            let parent = pid_t(arguments[5]), let settings = HostSettings(arguments: arguments.dropFirst(6))
        else { return nil }
        guard let runtime = runtimes.first(where: { $0.namespace == arguments[1] }) else { return 2 }
        let mode = [Mode.probe, .probeMatched].first { arguments.dropFirst(6).contains($0.rawValue) } ?? .serve
        return run(runtime, library: arguments[3], parent: parent, mode: mode, settings: settings)
    }

    /// The host's command line for `spawn`.
    static func commandLine(namespace: String, library: String, mode: Mode, settings: HostSettings) -> [String] {
        ["--runtime-host", namespace, "--library", library, "--parent", String(getpid())]
            + (mode == .serve ? [] : [mode.rawValue]) + settings.arguments
    }

    static func run(_ runtime: HostedRuntime, library path: String, parent: pid_t, mode: Mode, settings: HostSettings)
        -> Int32
    {
        let probe = mode != .serve
        // Die with the daemon; if it is already gone (we were adopted), do not start.
        clinux_die_with_parent()
        if getppid() != parent { return 1 }
        LargeBuffers.keepForReuse()
        let memoryNote = settings.memoryLimit.flatMap(MemoryLimit.apply)
        let channel = HostChannel(fd: channelFD)
        let entries = runtime.entries.filter { $0.symbol != nil }
        let library: RuntimeLibrary
        do {
            library = try RuntimeLibrary(path: path, entries: entries)
        } catch {
            channel.send(
                .object([
                    "jsonrpc": "2.0", "method": "$/ready",
                    "params": ["library": .string(path), "error": .string("\(error)")],
                ]))
            return 0
        }
        let resolved = entries.compactMap(\.symbol).filter { library.symbols[$0] != nil }
        var ready: JSONObject = [
            "library": .string(path), "resolved": .array(resolved.map { .string($0) }),
            "missing": .array(library.missing.map { .string($0) }),
        ]
        if let memoryNote { ready["memory_limit"] = .string(memoryNote) }
        // Only the probe's answer is read for it (RuntimeRouter.probe): a host started for a call
        // does not read the library's file again.
        if probe, let marker = runtime.manifest.versionMarker, let symbol = library.symbols.values.first,
            let version = LibraryVersion.read(marker: marker, loadedAt: symbol)
        {
            ready["library_version"] = .string(version)
        }
        if mode == .probeMatched {
            let defaults = defaults(runtime, library: library, channel: channel)
            if !defaults.pairs.isEmpty { ready["defaults"] = .object(defaults) }
        }
        channel.send(.object(["jsonrpc": "2.0", "method": "$/ready", "params": .object(ready)]))
        if probe { return 0 }

        let handles = HandleTable()
        let paths = PathPolicy(directories: settings.paths, extensions: settings.extensions)
        let plugins = PluginLibraries(directory: settings.pluginDirectory)
        let pool = BlockingPool(width: settings.parallelCalls)
        let byMethod = Dictionary(uniqueKeysWithValues: entries.map { ($0.method, $0) })
        channel.receive { line in
            guard let message = try? JSONParser.parse(line), case .string(let method)? = message["method"] else {
                return  // the daemon sends only well-formed requests
            }
            let params = message["params"]
            // A notification: the daemon asks the stream of a call in flight to pause.
            if method == HostMain.pauseMethod, let call = params?["id"] {
                _ = StreamSinks.shared.pause(call)
                return
            }
            guard let id = message["id"] else { return }
            // Descriptors sent for this call came with its line (attached to its first byte).
            var count = 0
            if case .int(let n)? = message["fds"] { count = Int(n) }
            let fds = channel.takeFileDescriptors(count)
            guard let entry = byMethod[method] else {
                fds.forEach { close($0) }
                channel.reply(
                    id: id,
                    .failure(RPCError(code: RPCError.Code.methodNotFound, message: "method not found: \(method)")))
                return
            }
            let work: @Sendable () -> Void = {
                var exported: [Int32] = []
                let call = { (entry: MethodEntry, params: JSONValue?, fds: [Int32]) in
                    let host = ProcessCallHost(
                        requestID: id, entry: entry, handles: handles, channel: channel, fds: fds, paths: paths,
                        plugins: plugins)
                    let outcome = Result { try library.call(entry, params: params, host: host) }
                        .mapError(RPCError.from)
                    host.callFinished(outcome: outcome)
                    exported += host.exported
                    return outcome
                }
                let outcome: Result<JSONValue, RPCError>
                if let composite = entry.composite, composite.isSelected(by: params),
                    case .object(let request)? = params
                {
                    fds.forEach { close($0) }
                    let steps = CompositeCall(
                        composite: composite, entries: byMethod, destroyMethods: runtime.manifest.destroyMethods
                    ) {
                        try call($0, $1, []).get()
                    }
                    outcome = Result { try steps.run(request) }.mapError(RPCError.from)
                } else {
                    outcome = call(entry, params, fds)
                }
                channel.reply(id: id, outcome, fds: exported)
            }
            if entry.pauseValue != nil { StreamSinks.shared.began(id) }
            if entry.blocking {
                pool.submit(work)
            } else {
                work()
            }
        }
        return 0  // the daemon closed the channel
    }
}

extension HostMain {
    /// For a probe of a matched library: the defaults of shared creating calls' parameters, each
    /// `MethodSpec.defaults` method's `return` (a function of no parameters).
    static func defaults(_ runtime: HostedRuntime, library: RuntimeLibrary, channel: HostChannel) -> JSONObject {
        var defaults = JSONObject()
        for method in Set(runtime.entries.flatMap(\.defaults.values)).sorted() {
            guard let entry = runtime.entries.first(where: { $0.method == method }) else { continue }
            let host = ProcessCallHost(
                requestID: .null, entry: entry, handles: HandleTable(), channel: channel, fds: [],
                paths: PathPolicy(directories: [:]), plugins: PluginLibraries(directory: nil))
            if let value = (try? library.call(entry, params: nil, host: host))?["return"] { defaults[method] = value }
        }
        return defaults
    }
}

/// The runtime's handles in this host: small integer ids for the daemon, raw values for C.
final class HandleTable: @unchecked Sendable {
    private let lock = NSLock()
    private var raw: [Int64: (value: UInt64, type: String)] = [:]
    /// Descriptors a creating call was given: the runtime object may use them until it is destroyed.
    private var heldFDs: [Int64: [Int32]] = [:]
    private var next: Int64 = 1

    func register(_ value: UInt64, type: String) -> Int64 {
        lock.withLock {
            defer { next += 1 }
            raw[next] = (value, type)
            return next
        }
    }

    func resolve(_ id: Int64, type: String) -> UInt64? {
        lock.withLock { raw[id].flatMap { $0.type == type ? $0.value : nil } }
    }

    func release(_ id: Int64) {
        let fds = lock.withLock {
            raw.removeValue(forKey: id)
            return heldFDs.removeValue(forKey: id) ?? []
        }
        fds.forEach { close($0) }
    }

    func hold(_ fds: [Int32], for id: Int64) {
        lock.withLock { heldFDs[id, default: []] += fds }
    }
}

/// What one call in the host gets from its host: handle ids from the table, confined paths, and
/// for a streaming call a sink that forwards each callback message to the daemon as `$/callback`
/// with the request's id.
final class ProcessCallHost: CallHost, @unchecked Sendable {
    private let requestID: JSONValue
    private let entry: MethodEntry
    private let handles: HandleTable
    private let channel: HostChannel
    private let paths: PathPolicy
    private let plugins: PluginLibraries
    private var sinks: [CallbackSink] = []
    /// The descriptors sent with this call; a parameter names one by its index.
    private let fds: [Int32]
    /// Duplicates of the runtime's descriptors to send with the answer, in index order.
    private(set) var exported: [Int32] = []

    init(
        requestID: JSONValue, entry: MethodEntry, handles: HandleTable, channel: HostChannel, fds: [Int32],
        paths: PathPolicy,
        plugins: PluginLibraries
    ) {
        self.requestID = requestID
        self.entry = entry
        self.handles = handles
        self.channel = channel
        self.fds = fds
        self.paths = paths
        self.plugins = plugins
    }

    /// After the call: descriptors go with the handle it created (or are closed). The sinks of a
    /// call that failed get no callbacks any more. A call whose run paused (it returned without a
    /// final message) ends its stream here, saying so.
    func callFinished(outcome: Result<JSONValue, RPCError>) {
        if case .success(let result) = outcome, let key = entry.resultHandle, case .int(let id)? = result[key] {
            handles.hold(fds, for: id)
        } else {
            fds.forEach { close($0) }
        }
        guard entry.streams != nil else { return }
        let succeeded = (try? outcome.get()) != nil
        let outlivesCall = !entry.blocking
        StreamSinks.shared.returned(requestID, streamGoesOn: succeeded && outlivesCall)
        if succeeded, !outlivesCall, sinks.contains(where: \.paused) {
            channel.send(
                .object([
                    "jsonrpc": "2.0", "method": "$/callback",
                    "params": [
                        "id": requestID, "message": [:], "final": true,
                        StreamEnd.hostEndingKey: .string(StreamEnd.Ending.paused.rawValue),
                    ],
                ]))
        }
    }

    func resolveHandle(_ id: JSONValue, type: String, path: String) throws -> UInt64 {
        guard case .int(let key) = id, let value = handles.resolve(key, type: type) else {
            throw RPCError(
                code: RPCError.Code.unknownHandle, message: "unknown \(type) handle in '\(path)'",
                data: .object(["param": .string(path)]))
        }
        return value
    }

    func registerHandle(_ raw: UInt64, type: String) -> JSONValue {
        .int(handles.register(raw, type: type))
    }

    func releaseHandle(_ id: JSONValue, type: String) {
        if case .int(let key) = id { handles.release(key) }
    }

    /// A sink per streaming call. A call that returns before its stream ends (a non-blocking one)
    /// leaves its sink among the live ones until the stream's final message.
    func callbackContext(for callback: String, value: JSONValue) throws -> UnsafeMutableRawPointer? {
        let channel = self.channel
        let requestID = self.requestID
        let outlivesCall = !entry.blocking
        let sink = CallbackSink(pauseValue: entry.pauseValue) { message, final in
            var params: JSONObject = ["id": requestID, "message": .object(message)]
            if value != .null { params["userdata"] = value }
            if final { params["final"] = true }
            channel.send(.object(["jsonrpc": "2.0", "method": "$/callback", "params": .object(params)]))
            if final && outlivesCall { StreamSinks.shared.remove(requestID) }
            return 0
        }
        sinks.append(sink)
        StreamSinks.shared.add(sink, for: requestID)
        return sink.userdata
    }

    func confinePath(_ value: String, kind: String, path: String) throws -> String {
        try paths.confine(value, kind: kind, param: path)
    }

    func plugin(library: String, symbol: String) throws -> UnsafeRawPointer {
        try plugins.symbol(symbol, in: library)
    }

    func exportFileDescriptor(_ fd: Int32) throws -> JSONValue {
        guard exported.count < Int(CLINUX_MAX_FDS) else {
            throw RPCError(
                code: RPCError.Code.internalError, message: "more than \(CLINUX_MAX_FDS) descriptors in one answer")
        }
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else {
            throw RPCError(
                code: RPCError.Code.internalError,
                message: "dup of descriptor \(fd): \(String(cString: strerror(errno)))")
        }
        exported.append(copy)
        return .int(Int64(exported.count - 1))
    }

    func fileDescriptor(_ value: JSONValue, path: String) throws -> Int32 {
        guard case .int(let index) = value, index >= 0, index < fds.count else {
            throw RPCError.invalidParams(path, "send the file descriptor with the request (SCM_RIGHTS)")
        }
        return fds[Int(index)]
    }
}
