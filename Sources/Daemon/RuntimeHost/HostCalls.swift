import BindingRuntime
import Foundation

/// A serving runtime host's work: each call the daemon sends runs through the table (a blocking one
/// on the pool, off the channel's thread) and is answered with its id; a pause reaches the call's
/// stream. Runs until the daemon closes the channel.
struct HostCalls: Sendable {
    let runtime: HostedRuntime
    let library: RuntimeLibrary
    let channel: HostChannel
    private let byMethod: [String: MethodEntry]
    private let handles = HandleTable()
    private let paths: PathPolicy
    private let plugins: PluginLibraries
    private let pool: BlockingPool

    init(
        runtime: HostedRuntime, library: RuntimeLibrary, entries: [MethodEntry], channel: HostChannel,
        settings: HostSettings
    ) {
        self.runtime = runtime
        self.library = library
        self.channel = channel
        byMethod = Dictionary(uniqueKeysWithValues: entries.map { ($0.method, $0) })
        paths = PathPolicy(directories: settings.paths, extensions: settings.extensions)
        plugins = PluginLibraries(directory: settings.pluginDirectory)
        pool = BlockingPool(width: settings.parallelCalls)
    }

    func serve() {
        channel.receive { message in
            switch message {
            case .pause(let id):
                _ = StreamSinks.shared.pause(id)
            case .call(let id, let method, .value(let params), let count):
                // Descriptors sent for this call came with its line (attached to its first byte).
                start(id: id, method: method, params: params, fds: channel.takeFileDescriptors(count))
            default:
                break  // the daemon sends only calls and pauses
            }
        }
    }

    private func start(id: Int64, method: String, params: JSONValue?, fds: [Int32]) {
        guard let entry = byMethod[method] else {
            fds.forEach { close($0) }
            let unknown = RPCError(code: RPCError.Code.methodNotFound, message: "method not found: \(method)")
            return channel.send(.failure(id: id, error: unknown))
        }
        if entry.pauseValue != nil { StreamSinks.shared.began(id) }
        let work: @Sendable () -> Void = { run(id: id, entry: entry, params: params, fds: fds) }
        if entry.blocking { pool.submit(work) } else { work() }
    }

    /// Runs the call (or its composite form's steps) and answers it.
    private func run(id: Int64, entry: MethodEntry, params: JSONValue?, fds: [Int32]) {
        var exported: [Int32] = []
        var paused = false
        let call = { (entry: MethodEntry, params: JSONValue?, fds: [Int32]) in
            let host = ProcessCallHost(
                callID: id, entry: entry, handles: handles, channel: channel, fds: fds, paths: paths, plugins: plugins)
            let outcome = Result { try library.call(entry, params: params, host: host) }.mapError(RPCError.from)
            paused = host.callFinished(outcome: outcome) || paused
            exported += host.exported
            return outcome
        }
        let outcome: Result<JSONValue, RPCError>
        if let composite = entry.composite, composite.isSelected(by: params), case .object(let request)? = params {
            fds.forEach { close($0) }
            let steps = CompositeCall(
                composite: composite, entries: byMethod, destroyMethods: runtime.manifest.destroyMethods
            ) { try call($0, $1, []).get() }
            outcome = Result { try steps.run(request) }.mapError(RPCError.from)
        } else {
            outcome = call(entry, params, fds)
        }
        switch outcome {
        case .success(let value):
            channel.send(.result(id: id, value: value, fds: exported.count, paused: paused), fds: exported)
        case .failure(let error):
            exported.forEach { close($0) }
            channel.send(.failure(id: id, error: error))
        }
    }
}
