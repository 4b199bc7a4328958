/// One JSON value's text, kept as it came: a runtime host's callback message, which the daemon
/// forwards to a socket client without reading it (a front that needs its members parses it).
public struct JSONText: Sendable, Equatable {
    public let bytes: [UInt8]

    /// Text already known to be one JSON value.
    public init(validated bytes: [UInt8]) { self.bytes = bytes }

    /// The text of `value`.
    public init(_ value: JSONValue) {
        var bytes: [UInt8] = []
        value.write(into: &bytes)
        self.bytes = bytes
    }

    /// The value, built.
    public var value: JSONValue? { try? JSONParser.parse(bytes) }
}
