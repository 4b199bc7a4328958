import BindingRuntime
import Foundation

/// The streams of this host's calls, by the daemon's id of the call, so that a pause the daemon
/// asks for reaches their sinks: a stream is kept from before its call runs (one that can pause)
/// or its first sink until it is over (`ended`, the one place a stream's sinks are let go). A pause
/// asked before the call made its sink waits for it.
final class StreamSinks: @unchecked Sendable {
    static let shared = StreamSinks()

    /// What ends a stream here: it is over once its call returned and, for a stream that outlives
    /// its call (a non-blocking run that succeeded), its final message went out.
    enum Step {
        case callReturned(streamGoesOn: Bool)
        case finalMessage
    }

    private struct Stream {
        var sinks: [CallbackSink] = []
        var running = true
        var pauseAsked = false
        var finalSent = false
    }

    private let lock = NSLock()
    private var streams: [Int64: Stream] = [:]

    /// A call that can pause is about to run.
    func began(_ call: Int64) {
        lock.withLock { streams[call] = Stream() }
    }

    func add(_ sink: CallbackSink, for call: Int64) {
        let asked = lock.withLock {
            streams[call, default: Stream()].sinks.append(sink)
            defer { streams[call]?.pauseAsked = false }
            return streams[call]?.pauseAsked == true
        }
        if asked { _ = sink.requestPause() }
    }

    /// Asks a call's stream to pause; false when no such call runs or its runtime cannot pause.
    func pause(_ call: Int64) -> Bool {
        let found: [CallbackSink]? = lock.withLock {
            guard let stream = streams[call], stream.running || !stream.sinks.isEmpty else { return nil }
            if stream.sinks.isEmpty { streams[call]?.pauseAsked = true }
            return stream.sinks
        }
        guard let found else { return false }
        return found.isEmpty || found.map { $0.requestPause() }.contains(true)
    }

    /// One step of the stream's end; once it is over its sinks are let go.
    func ended(_ call: Int64, by step: Step) {
        let gone: Stream? = lock.withLock {
            guard var stream = streams[call] else { return nil }
            let over: Bool
            switch step {
            case .callReturned(let streamGoesOn):
                stream.running = false
                over = !streamGoesOn || stream.finalSent
            case .finalMessage:
                stream.finalSent = true
                over = !stream.running
            }
            guard over else {
                streams[call] = stream
                return nil
            }
            return streams.removeValue(forKey: call)
        }
        _ = gone  // released outside the lock
    }
}
