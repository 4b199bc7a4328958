import BindingRuntime
import CLinux
import Foundation

/// What one call in the host gets from its host: handle ids from the table, confined paths, and
/// for a streaming call a sink that forwards each callback message to the daemon as a `callback`
/// with the call's id.
final class ProcessCallHost: CallHost, @unchecked Sendable {
    private let callID: Int64
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
        callID: Int64, entry: MethodEntry, handles: HandleTable, channel: HostChannel, fds: [Int32],
        paths: PathPolicy,
        plugins: PluginLibraries
    ) {
        self.callID = callID
        self.entry = entry
        self.handles = handles
        self.channel = channel
        self.fds = fds
        self.paths = paths
        self.plugins = plugins
    }

    /// After the call: descriptors go with the handle it created (or are closed). The sinks of a
    /// call that failed get no callbacks any more. Whether its run paused (it returned without the
    /// runtime's final message): its answer says so.
    func callFinished(outcome: Result<JSONValue, RPCError>) -> Bool {
        if case .success(let result) = outcome, let key = entry.resultHandle, case .int(let id)? = result[key] {
            handles.hold(fds, for: id)
        } else {
            fds.forEach { close($0) }
        }
        guard entry.streams != nil else { return false }
        let succeeded = (try? outcome.get()) != nil
        let outlivesCall = !entry.blocking
        StreamSinks.shared.ended(callID, by: .callReturned(streamGoesOn: succeeded && outlivesCall))
        return succeeded && !outlivesCall && sinks.contains(where: \.paused)
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

    /// A sink per streaming call: each message goes to the daemon as the client gets it (with the
    /// call's userdata). A call that returns before its stream ends (a non-blocking one) leaves its
    /// sink among the live ones until the stream's final message.
    func callbackContext(for callback: String, value: JSONValue) throws -> UnsafeMutableRawPointer? {
        let channel = self.channel
        let callID = self.callID
        let sink = CallbackSink(pauseValue: entry.pauseValue) { message, final in
            var message = message
            if value != .null { message["userdata"] = value }
            channel.send(.callback(id: callID, final: final, message: JSONText(.object(message))))
            if final { StreamSinks.shared.ended(callID, by: .finalMessage) }
            return 0
        }
        sinks.append(sink)
        StreamSinks.shared.add(sink, for: callID)
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
