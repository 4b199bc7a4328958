import BindingRuntime
import Foundation

/// The sinks of the streaming calls of this host, by the daemon's id of the call, so that a pause
/// the daemon asks for reaches them: a call's sinks are kept while it runs, and those of a stream
/// that outlives its call (a non-blocking run) until its final message. A pause asked before the
/// call made its sink waits for it.
final class StreamSinks: @unchecked Sendable {
    static let shared = StreamSinks()
    private let lock = NSLock()
    private var sinks: [String: [CallbackSink]] = [:]
    /// Calls that can pause, from before they run until they return.
    private var running: Set<String> = []
    private var pausesAsked: Set<String> = []

    /// A call that can pause is about to run.
    func began(_ call: JSONValue) {
        _ = lock.withLock { running.insert(call.jsonText) }
    }

    func add(_ sink: CallbackSink, for call: JSONValue) {
        let asked = lock.withLock {
            sinks[call.jsonText, default: []].append(sink)
            return pausesAsked.remove(call.jsonText) != nil
        }
        if asked { _ = sink.requestPause() }
    }

    /// Asks a call's stream to pause; false when no such call runs or its runtime cannot pause.
    func pause(_ call: JSONValue) -> Bool {
        let key = call.jsonText
        let found: [CallbackSink]? = lock.withLock {
            if let found = sinks[key] { return found }
            guard running.contains(key) else { return nil }
            pausesAsked.insert(key)
            return []
        }
        guard let found else { return false }
        return found.isEmpty || found.map { $0.requestPause() }.contains(true)
    }

    /// The call returned; its sinks stay only while its stream goes on.
    func returned(_ call: JSONValue, streamGoesOn: Bool) {
        let gone = lock.withLock {
            running.remove(call.jsonText)
            pausesAsked.remove(call.jsonText)
            return streamGoesOn ? [] : sinks.removeValue(forKey: call.jsonText)
        }
        _ = gone  // released outside the lock
    }

    /// A stream that outlived its call ended.
    func remove(_ call: JSONValue) {
        let gone = lock.withLock { sinks.removeValue(forKey: call.jsonText) }
        _ = gone
    }
}
