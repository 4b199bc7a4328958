/// Receives the calls of a host-supplied C callback, converted to JSON by the generated trampoline.
/// The host passes `Unmanaged.passUnretained(sink).toOpaque()` as the userdata and keeps the sink
/// alive until the stream ends.
public final class CallbackSink: @unchecked Sendable {
    /// Gets the callback's arguments by parameter name; returns what the C callback returns.
    private let handler: @Sendable (JSONObject) -> Int64

    public init(_ handler: @escaping @Sendable (JSONObject) -> Int64) {
        self.handler = handler
    }

    public var userdata: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Called by generated trampolines. A NULL userdata (no sink) answers 0.
    public static func deliver(_ userdata: UnsafeMutableRawPointer?, _ arguments: JSONObject) -> Int64 {
        guard let userdata else { return 0 }
        return Unmanaged<CallbackSink>.fromOpaque(userdata).takeUnretainedValue().handler(arguments)
    }
}
