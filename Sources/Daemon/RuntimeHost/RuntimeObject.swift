import BindingRuntime
import Glibc
import RPCServer

/// One object of a runtime living in a runtime host process (a model instance, a context), as the
/// router sees it. Clients reach it through handles (several when it is shared); its streams and
/// blocking calls run one at a time, the others wait in FIFO order. Loop thread only.
final class RuntimeObject: HandleTarget {
    let type: String
    /// The method that created it (its manifest names the one that destroys it).
    let createdBy: String
    let host: HostProcess
    /// The runtime host's id for it (what the generated entries get for the handle).
    let hostID: JSONValue
    /// The creating call's parameters, canonical, when clients with the same ones share it.
    let shareKey: String?
    /// A shared object's creating call as the client sent it: a client that makes the object its
    /// own while others use it gets another made the same way.
    let creation: (entry: MethodSpec, params: JSONValue?)?
    /// A shared object whose state one client changed: that client's alone, out of the sharing
    /// index, destroyed when it lets go.
    var isPrivate = false
    /// The per-instance value the router chose for the runtime's instance field, if any.
    let instanceValue: Int64?
    /// The host's ids of the objects the creating call used, by handle type (a memory's context):
    /// destroying it may need them.
    let related: [String: JSONValue]
    /// Client handles on it; at 0 a shared object waits out the keep-alive, then is destroyed.
    var references = 0
    /// Bumped whenever a keep-alive timer must no longer fire.
    var expiry = 0
    /// Since when no handle holds it (CLOCK_MONOTONIC ns), while its keep-alive runs.
    var unusedSince: UInt64?
    /// Seconds it stays loaded once no handle holds it, as a client set it (`server.keep_alive`;
    /// negative: until the daemon stops); nil: the daemon's keep-alive.
    var keepAlive: Double?
    /// Set when its host died: every use answers this error.
    var crashed: RPCError?
    var calls = CallQueue<Work>()

    init(
        type: String, createdBy: String, host: HostProcess, hostID: JSONValue, shareKey: String? = nil,
        instanceValue: Int64? = nil, creation: (entry: MethodSpec, params: JSONValue?)? = nil,
        related: [String: JSONValue] = [:]
    ) {
        self.type = type
        self.createdBy = createdBy
        self.host = host
        self.hostID = hostID
        self.shareKey = shareKey
        self.creation = creation
        self.instanceValue = instanceValue
        self.related = related
    }

    /// One call that runs alone on the object (a stream, or a blocking call), queued or running.
    final class Work {
        let call: Call
        /// A stream: told its place in the queue, bounded by the queue limit, stopped by abort and
        /// cancel.
        let isStream: Bool
        /// The descriptors it takes to the runtime host (closed if it never runs).
        let fds: [Int32]
        /// Sends it to the host; its answer finishes it.
        var start: () -> Void = {}
        /// A running stream's call in the runtime host (a client's stop and pause name it).
        var hostCall: Int64?
        /// A running stream that a client may pause.
        var canPause = false

        init(call: Call, isStream: Bool, fds: [Int32]) {
            self.call = call
            self.isStream = isStream
            self.fds = fds
        }

        func belongs(to connection: UInt64) -> Bool { call.connection == connection }

        /// Ends a call that never ran (its queue full, its wait too long, dropped by its client, or
        /// its object's host gone): its descriptors closed, `error` its answer.
        func endUnrun(_ error: RPCError) {
            fds.forEach { close($0) }
            call.respond(.failure(error))
        }
    }
}

/// JSON text with object keys sorted at every level: equal parameters give equal keys, whatever
/// order the client wrote them in.
enum CanonicalJSON {
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .object(let object):
            let members = object.pairs.sorted { $0.0 < $1.0 }.map { JSONValue.string($0.0).jsonText + ":" + text($0.1) }
            return "{" + members.joined(separator: ",") + "}"
        case .array(let items):
            return "[" + items.map(text).joined(separator: ",") + "]"
        default:
            return value.jsonText
        }
    }
}
