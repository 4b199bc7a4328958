import Foundation

/// Reads HTTP/1.1 requests from bytes as they arrive (RFC 9112): the head bounded in size and
/// header count, the body by Content-Length or chunked, bounded too. A request's bytes may come in
/// any pieces, several requests in one (pipelining); what follows a request waits for `next()`.
/// Requests with both Content-Length and Transfer-Encoding, or conflicting lengths, are refused
/// (they are how requests are smuggled past proxies). Reading costs time linear in the bytes: the
/// body grows in place and the search for a head's end resumes where it stopped.
public struct HTTPRequestParser {
    public let maxHeadBytes: Int
    public let maxHeaders: Int
    public let maxBodyBytes: Int

    private var buffer: [UInt8] = []
    /// Where unread bytes start in `buffer`.
    private var start = 0
    /// How far the search for the head's end has looked (its bytes before this hold no end).
    private var scanned = 0
    private var state = State.head
    /// The request whose head was read, while its body arrives (in `body`).
    private var current: HTTPRequest?
    private var body: [UInt8] = []

    private enum State {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
    }

    /// What the bytes received so far are in the middle of.
    public enum Phase: Equatable { case idle, head, body }

    public init(maxHeadBytes: Int = 16 << 10, maxHeaders: Int = 100, maxBodyBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaders = maxHeaders
        self.maxBodyBytes = maxBodyBytes
    }

    /// Bytes received and not yet part of a request handed out.
    public var bufferedBytes: Int { unread + body.count }

    /// Bytes received and not yet read as part of a request.
    private var unread: Int { buffer.count - start }

    /// Body bytes the request being read declared and has not sent yet (0 when chunked: unknown).
    public var expectedBodyBytes: Int {
        if case .body(let remaining) = state { return max(0, remaining - unread) }
        return 0
    }

    public var phase: Phase {
        if case .head = state { return buffer.count > start ? .head : .idle }
        return .body
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// What `next` shows of a request before its body is read: the head, and the body's declared
    /// length (nil when chunked). Throwing refuses the request.
    public typealias HeadCheck = (_ head: HTTPRequest, _ declaredBodyBytes: Int?) throws(HTTPParseError) -> Void

    /// The next complete request, nil while more bytes are needed; `checkHead` sees each head first.
    public mutating func next(checkingHead checkHead: HeadCheck = { _, _ in }) throws(HTTPParseError) -> HTTPRequest? {
        while true {
            switch state {
            case .head:
                guard try readHead(checkHead) else { return nil }
            case .body(let remaining):
                let n = takeBody(remaining)
                guard remaining == n else {
                    state = .body(remaining: remaining - n)
                    return nil
                }
                return finishRequest()
            case .chunkSize:
                guard let line = try takeLine(limit: 1024) else { return nil }
                // Hex digits only: a sign would make a size below zero.
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != 0x20 && $0 != 0x09 }
                guard !digits.isEmpty, digits.count <= 8, digits.allSatisfy(\.isHexDigitByte),
                    let size = Int(String(decoding: digits, as: UTF8.self), radix: 16)
                else { throw HTTPParseError(400, "a malformed chunk size") }
                guard body.count + size <= maxBodyBytes else { throw tooLarge }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let n = takeBody(remaining)
                guard remaining == n else {
                    state = .chunkData(remaining: remaining - n)
                    return nil
                }
                state = .chunkEnd
            case .chunkEnd:
                guard let line = try takeLine(limit: 2) else { return nil }
                guard line.isEmpty else { throw HTTPParseError(400, "a chunk longer than its size") }
                state = .chunkSize
            case .trailers:
                // Trailer fields are read and left out (none of ours needs one).
                guard let line = try takeLine(limit: maxHeadBytes) else { return nil }
                if line.isEmpty { return finishRequest() }
            }
        }
    }

    /// Reads a head when it is complete (true: the state moved on), skipping empty lines before it.
    private mutating func readHead(_ checkHead: HeadCheck) throws(HTTPParseError) -> Bool {
        // Empty lines before a request line are ignored (RFC 9112 2.2).
        while start < buffer.count, buffer[start] == 0x0D || buffer[start] == 0x0A { start += 1 }
        scanned = max(scanned, start)
        guard let end = headEnd() else {
            if unread > maxHeadBytes { throw HTTPParseError(431, "the request head is too large") }
            return false
        }
        guard end.bodyStart - start <= maxHeadBytes else {
            throw HTTPParseError(431, "the request head is too large")
        }
        let request = try parseHead(buffer[start..<end.headEnd])
        start = end.bodyStart
        scanned = start
        let next = try bodyState(for: request)
        if case .body(let length) = next { try checkHead(request, length) } else { try checkHead(request, nil) }
        state = next
        current = request
        return true
    }

    /// Moves up to `remaining` waiting bytes into the body; how many.
    private mutating func takeBody(_ remaining: Int) -> Int {
        let n = min(remaining, unread)
        if body.isEmpty { body.reserveCapacity(min(remaining, 1 << 20)) }
        body.append(contentsOf: buffer[start..<(start + n)])
        start += n
        return n
    }

    /// The request read, its body moved into it.
    private mutating func finishRequest() -> HTTPRequest? {
        state = .head
        guard var request = current else { return nil }
        current = nil
        swap(&request.body, &body)
        body = []
        return request
    }

    private var tooLarge: HTTPParseError { HTTPParseError(413, "the body is larger than \(maxBodyBytes) bytes") }

    /// Where the head ends (the first empty line: CRLF CRLF, or bare LFs), searching on from where
    /// the last search stopped.
    private mutating func headEnd() -> (headEnd: Int, bodyStart: Int)? {
        var i = scanned
        while i < buffer.count {
            if buffer[i] == 0x0A {
                // The line ends here; an empty next line ends the head.
                if i + 1 < buffer.count, buffer[i + 1] == 0x0A { return (i, i + 2) }
                if i + 2 < buffer.count, buffer[i + 1] == 0x0D, buffer[i + 2] == 0x0A { return (i, i + 3) }
                if i + 2 >= buffer.count { break }  // the next line's start is not here yet
            }
            i += 1
        }
        scanned = i
        return nil
    }

    /// A line (without its CRLF or LF) of at most `limit` bytes, or nil while it is incomplete.
    private mutating func takeLine(limit: Int) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        guard let newline = buffer[start...].firstIndex(of: 0x0A) else {
            if unread > limit + 2 { throw HTTPParseError(400, "a line too long in a chunked body") }
            return nil
        }
        var line = buffer[start..<newline]
        if line.last == 0x0D { line = line.dropLast() }
        guard line.count <= limit else { throw HTTPParseError(400, "a line too long in a chunked body") }
        start = newline + 1
        return line
    }

    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequest {
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            $0.last == 0x0D ? $0.dropLast() : $0
        }
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
            parts[0].allSatisfy(Self.isTokenByte), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw HTTPParseError(400, "a malformed request line") }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version.hasPrefix("HTTP/1.") else { throw HTTPParseError(505, "only HTTP/1.x is spoken here") }
        guard let minor = Int(version.dropFirst(7)), (0...1).contains(minor) else {
            throw HTTPParseError(505, "only HTTP/1.0 and 1.1 are spoken here")
        }
        guard lines.count <= maxHeaders else { throw HTTPParseError(431, "more than \(maxHeaders) header fields") }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[..<colon].allSatisfy(Self.isTokenByte)
            else { throw HTTPParseError(400, "a malformed header field") }
            let value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
            guard !value.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }) else {
                throw HTTPParseError(400, "a control character in a header value")
            }
            var trimmed = value
            while let last = trimmed.last, last == 0x20 || last == 0x09 { trimmed = trimmed.dropLast() }
            headers.append(
                (String(decoding: line[..<colon], as: UTF8.self).lowercased(), String(decoding: trimmed, as: UTF8.self))
            )
        }
        return HTTPRequest(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            minorVersion: minor, headers: headers, body: [])
    }

    private func bodyState(for request: HTTPRequest) throws(HTTPParseError) -> State {
        let lengths = request.headers.filter { $0.name == "content-length" }.map(\.value)
        let encodings = request.headers.filter { $0.name == "transfer-encoding" }.map(\.value)
        if !encodings.isEmpty {
            guard lengths.isEmpty else { throw HTTPParseError(400, "both Content-Length and Transfer-Encoding") }
            guard
                encodings.joined(separator: ",").lowercased().split(separator: ",").map({
                    $0.trimmingCharacters(in: .whitespaces)
                }) == ["chunked"]
            else { throw HTTPParseError(501, "only the chunked transfer coding is understood") }
            return .chunkSize
        }
        let values = Set(lengths.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
        guard values.count <= 1 else { throw HTTPParseError(400, "conflicting Content-Length values") }
        guard let text = values.first else { return .body(remaining: 0) }
        guard text.count <= 18, !text.isEmpty, text.allSatisfy(\.isNumber), text.allSatisfy(\.isASCII),
            let length = Int(text)
        else {
            throw HTTPParseError(400, "a malformed Content-Length")
        }
        guard length <= maxBodyBytes else { throw tooLarge }
        return .body(remaining: length)
    }

    /// The bytes of a token (method, header name): RFC 9110's tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigitByte: Bool {
        (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self)
    }
}
