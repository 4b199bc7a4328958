import BindingRuntime
import CLinux
import Foundation
import RPCServer
import Wire
import XCTest

/// A blocking HTTP/1.1 client connection for the tests (60 s to each read).
final class HTTPConnection {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        fd = try LoopbackTCP.connect(port: port)
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A daemon on the simulated runtimes with HTTP on a port of the kernel's choosing, and the port.
    static func daemon(_ arguments: [String] = [], _ environment: [String: String] = [:]) throws -> (Daemon, UInt16) {
        let daemon = try RKLLMTests.simulated(environment, arguments: ["--http", "127.0.0.1:0"] + arguments)
        return (daemon, try port(of: daemon))
    }

    /// The port `daemon` says in its log its HTTP front bound on loopback.
    static func port(of daemon: Daemon) throws -> UInt16 {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let port = LoopbackTCP.httpPort(inLog: daemon.log) { return port }
            usleep(10_000)
        }
        throw Failure("no HTTP address in the log: \(daemon.log)")
    }

    /// A POST of a JSON body, and its response.
    func post(_ path: String, _ body: String, headers: String = "") throws -> (status: Int, body: [UInt8]) {
        try send("POST \(path) HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\(headers)\r\n\(body)")
        return try response()
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws { try sendAll(bytes, to: fd) }

    /// Sends what of `bytes` the socket takes now (a client that never waits for its peer).
    func sendWithoutWaiting(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    }

    /// Whether bytes (or the end) wait to be read now.
    func hasBytesToRead() -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return !buffer.isEmpty || poll(&entry, 1, 0) > 0
    }

    /// Reads more into the buffer; false at the end of the stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n >= 0 else { throw Failure("recv: \(String(cString: strerror(errno)))") }
        buffer += chunk[..<n]
        return n > 0
    }

    private func line() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let text = String(decoding: buffer[..<newline], as: UTF8.self).trimmingCharacters(in: .newlines)
                buffer.removeSubrange(...newline)
                return text
            }
            guard try fill() else { throw Failure("the connection ended mid-line") }
        }
    }

    func head() throws -> (status: Int, headers: [String: String]) {
        let status = Int(try line().split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        while case let field = try line(), !field.isEmpty {
            let parts = field.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        return (status, headers)
    }

    /// The next chunk of a chunked body ("" at its end).
    func chunk() throws -> String {
        let size = Int(try line(), radix: 16) ?? 0
        while buffer.count < size + 2 { guard try fill() else { throw Failure("the connection ended mid-chunk") } }
        let text = String(decoding: buffer[..<size], as: UTF8.self)
        buffer.removeFirst(size + 2)
        return text
    }

    func response() throws -> (status: Int, body: [UInt8]) {
        let (status, headers) = try head()
        return (status, try rest(of: headers))
    }

    /// The body of the response whose head was read.
    func rest(of headers: [String: String]) throws -> [UInt8] {
        if headers["transfer-encoding"] == "chunked" {
            var body = ""
            while case let piece = try chunk(), !piece.isEmpty { body += piece }
            return Array(body.utf8)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length { guard try fill() else { throw Failure("the connection ended mid-body") } }
        defer { buffer.removeFirst(length) }
        return Array(buffer[..<length])
    }

    func isClosed() throws -> Bool { try buffer.isEmpty && !fill() }
}
