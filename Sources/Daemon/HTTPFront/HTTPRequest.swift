import Foundation

/// One HTTP/1.1 request as read: method, target, headers (names lower-cased), body.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The request target as sent: path and query (`/api/tags`, `/v1/models?x=1`).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
        a.method == b.method && a.target == b.target && a.minorVersion == b.minorVersion && a.body == b.body
            && a.headers.elementsEqual(b.headers) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The value of the first header of that name (lower-case).
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The target without its query.
    public var path: Substring { target.prefix { $0 != "?" } }

    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        let tokens = (header("connection") ?? "").lowercased().split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        return minorVersion >= 1 ? !tokens.contains("close") : tokens.contains("keep-alive")
    }
}

/// Why a request could not be read or is refused before its body, with the status that says so
/// and any header fields the status calls for; the connection closes after.
public struct HTTPParseError: Error, Equatable, Sendable {
    public struct Field: Equatable, Sendable {
        public let name: String
        public let value: String
    }

    public let status: Int
    public let reason: String
    public let fields: [Field]

    public init(_ status: Int, _ reason: String, fields: [Field] = []) {
        self.status = status
        self.reason = reason
        self.fields = fields
    }
}
