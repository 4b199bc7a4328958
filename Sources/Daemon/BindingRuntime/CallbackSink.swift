import Foundation

/// Receives the calls of a host-supplied C callback, converted to one JSON message by the
/// generated trampoline. The host passes `userdata` as the C userdata and keeps the sink alive
/// until the stream ends (a call marked `final`, or the call's return).
public final class CallbackSink: @unchecked Sendable {
    /// Gets the message and whether it is the stream's last; returns what the C callback returns.
    private let handler: @Sendable (JSONObject, Bool) -> Int64
    /// The strings of one stream are decoded together: a character the runtime split across two
    /// calls comes out whole, in the second.
    let text = UTF8Stream()
    /// What the callback returns to pause the run (nil: the runtime cannot pause), whether a
    /// pause was asked, and whether the callback has returned it.
    private let pauseValue: Int64?
    private let lock = NSLock()
    private var pauseAsked = false
    private var pausedRun = false

    public init(
        pauseValue: Int64? = nil, _ handler: @escaping @Sendable (_ message: JSONObject, _ final: Bool) -> Int64
    ) {
        self.pauseValue = pauseValue
        self.handler = handler
    }

    /// Asks the run to pause at its next message that is not its last; false when it cannot.
    public func requestPause() -> Bool {
        guard pauseValue != nil else { return false }
        lock.withLock { pauseAsked = true }
        return true
    }

    /// Whether the callback told the runtime to pause (the run ended without its final message).
    public var paused: Bool { lock.withLock { pausedRun } }

    public var userdata: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    /// Called by generated trampolines: builds the message with this sink's UTF-8 stream and hands
    /// it over. A NULL userdata (no sink) answers 0.
    public static func deliver(_ userdata: UnsafeMutableRawPointer?, final: Bool, _ message: () -> JSONObject) -> Int64
    {
        guard let userdata else { return 0 }
        let sink = Unmanaged<CallbackSink>.fromOpaque(userdata).takeUnretainedValue()
        let built = CRead.$textStream.withValue(sink.text) { message() }
        let answer = sink.handler(built, final)
        guard !final, let pause = sink.pauseValue else { return answer }
        return sink.lock.withLock {
            guard sink.pauseAsked else { return answer }
            sink.pausedRun = true
            return pause
        }
    }

    /// The members of a struct argument, less the empty ones (null, or structs whose members are
    /// all zero or empty): a message carries what the runtime filled in.
    public static func addMembers(of value: JSONValue, to message: inout JSONObject) {
        guard case .object(let object) = value else { return }
        for (key, member) in object.pairs where !isEmpty(member) { message[key] = member }
    }

    private static func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return true
        case .object(let object): return object.pairs.allSatisfy { isEmpty($0.1) || isZero($0.1) }
        default: return false
        }
    }

    private static func isZero(_ value: JSONValue) -> Bool {
        switch value {
        case .int(0), .uint(0), .double(0), .bool(false): return true
        case .string(let s): return s.isEmpty
        default: return false
        }
    }
}

/// UTF-8 text arriving in pieces: an incomplete character at the end of one piece is held back
/// and completed by the next, so every piece handed out is valid UTF-8 (bytes invalid in
/// themselves become U+FFFD). One stream's pieces come one at a time.
public final class UTF8Stream: @unchecked Sendable {
    private var held: [UInt8] = []

    public init() {}

    public func decode(_ p: UnsafePointer<CChar>) -> String {
        var bytes = held
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: strlen(p)))
        let keep = Self.incompleteTail(bytes)
        held = Array(bytes.suffix(keep))
        return String(decoding: bytes.dropLast(keep), as: UTF8.self)
    }

    /// How many bytes at the end start a character that is not complete yet (0...3).
    static func incompleteTail(_ bytes: [UInt8]) -> Int {
        for back in stride(from: 1, through: min(3, bytes.count), by: 1) {
            let byte = bytes[bytes.count - back]
            if byte & 0xC0 == 0x80 { continue }  // a continuation byte: look further back
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return length > back ? back : 0
        }
        return 0
    }
}
