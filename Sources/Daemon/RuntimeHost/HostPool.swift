import BindingRuntime
import RPCServer

/// The runtime host processes the router runs, and which is whose: each namespace's shared host
/// (calls of no one client, and every call of a `Hosting.shared` runtime), each client's own
/// (`Hosting.perClient`), one per instance (`Hosting.perInstance`). Hosts are started on demand,
/// forgotten once they end, killed when they stall. Loop thread only: unchecked Sendable as the
/// router that owns it, its state `LoopBound` (checked on every access in debug builds).
final class HostPool: @unchecked Sendable {
    /// What starting a host of a namespace takes.
    struct Launch {
        let executable: String
        let library: String
        let settings: HostSettings
    }

    @LoopBound private(set) var all: [ObjectIdentifier: HostProcess] = [:]
    /// Hosts of one client, by client and namespace.
    @LoopBound private var byClient: [UInt64: [String: HostProcess]] = [:]
    /// Each namespace's host for calls of no one client.
    @LoopBound private var shared: [String: HostProcess] = [:]
    /// The loop the hosts' channels are read on (the server's, once the router is attached).
    var loop: EventLoop?
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    var count: Int { all.count }

    /// The host for a call of `client` (`nil`: of no one client, a shared object's load) that
    /// creates an object of type `creating`, if any, as `hosting` says: started (`start`) when
    /// there is none.
    func find(
        _ namespace: String, hosting: RuntimeSetup.Hosting?, client: UInt64?, creating: String?,
        start: () throws -> HostProcess
    ) throws -> HostProcess {
        if let creating, hosting == .perInstance(of: creating) { return try start() }
        if hosting == .perClient, let client {
            if let own = byClient[client]?[namespace], !own.closing { return own }
            let host = try start()
            byClient[client, default: [:]][namespace] = host
            return host
        }
        if let host = shared[namespace], !host.closing { return host }
        let host = try start()
        shared[namespace] = host
        return host
    }

    /// Starts a host of `namespace`; `died` runs when it ends other than by `stop`'s forgetting.
    func start(
        _ namespace: String, _ launch: Launch, died: @escaping (HostProcess, RPCError) -> Void
    ) throws -> HostProcess {
        guard let loop else { throw RPCError(code: RPCError.Code.internalError, message: "not attached") }
        let host = try HostProcess(
            executable: launch.executable, namespace: namespace, library: launch.library, settings: launch.settings,
            loop: loop, logger: logger)
        all[ObjectIdentifier(host)] = host
        host.whenDead { [unowned self, unowned host] error in
            forget(host)
            died(host, error)
        }
        return host
    }

    /// Whether `host` is its namespace's shared host.
    func isShared(_ host: HostProcess) -> Bool { shared[host.namespace] === host }

    /// The client whose own host `host` is.
    func client(of host: HostProcess) -> UInt64? {
        byClient.first { $0.value[host.namespace] === host }?.key
    }

    func hosts(of client: UInt64) -> [HostProcess] { byClient[client].map { Array($0.values) } ?? [] }

    /// Stops a host (its calls in flight end with `error`, default "stopped") and forgets it.
    func stop(_ host: HostProcess, error: RPCError? = nil) {
        host.stop(error: error)
        forget(host)
    }

    /// Every host stopped, its calls answered `error` (shutdown).
    func stopAll(_ error: RPCError) {
        for host in all.values { stop(host, error: error) }
    }

    /// A host that stopped or died: no longer counted, nor any client's, nor shared.
    private func forget(_ host: HostProcess) {
        all[ObjectIdentifier(host)] = nil
        if shared[host.namespace] === host { shared[host.namespace] = nil }
        guard let client = client(of: host) else { return }
        byClient[client]?[host.namespace] = nil
        if byClient[client]?.isEmpty == true { byClient[client] = nil }
    }

    /// Kills the hosts whose oldest call in flight made no progress for `timeout` seconds.
    func killStalled(after timeout: Double) {
        let now = EventLoop.now()
        for host in all.values {
            if let oldest = host.oldestProgress, Double(now - oldest) / 1e9 > timeout {
                host.kill(reason: "no progress for \(timeout) s")
            }
        }
    }
}
