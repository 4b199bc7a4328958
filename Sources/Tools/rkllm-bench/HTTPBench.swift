import BindingRuntime
import CLinux
import Foundation
import RPCServer
import Wire

/// `rkllm-bench http`: the HTTP front against the socket, in one run on one daemon.
///
///   rkllm-bench http [--connections 100] [--duration 5] [--words 200] [--token-us 1000]
///
/// Requests/s of `GET /api/version` from N keep-alive connections beside `server.ping`'s over the
/// socket; then the same demo model generating through `rkllm.run` and through Ollama's
/// `/api/generate`, turn about, with the runtime stamping each token's callback time into its text:
/// the latency each path adds per token and the time to the first token.
func http(_ options: Options) throws {
    setenv("RKLLM_SIM_TIMESTAMPS", "1", 1)
    setenv("RKLLM_SIM_TOKEN_US", String(options.tokenMicros), 1)
    setenv("RKLLM_SIM_PREFILL_US", "0", 1)
    setenv("RKLLM_SIM_LOAD_MS", "0", 1)
    setenv("RKLLM_MODEL_DIRS", repositoryModels, 1)
    let log = "/tmp/rkllm-bench-\(getpid()).log"
    let target = try Target(
        socket: nil, maxConnections: options.connections * 2,
        // Every connection is opened before any sends its first request: none is closed as unproven.
        arguments: [
            "--http", "127.0.0.1:0", "--http-max-unauthenticated", String(options.connections * 2), "--log-level", "1",
        ],
        log: log)
    defer { target.stop() }
    let port = try httpPort(log)

    try ping(options, socket: target.socket).print("ping")
    try httpVersion(options, port: port)

    let prompt = Array(repeating: "hello", count: options.words).joined(separator: " ")
    let client = try BenchClient(target.socket)
    client.polls = true
    let handle = try client.call("rkllm.init", [["model_path": "demo"]])["handle"] ?? .null
    var socketPath = Latencies()
    var httpPath = Latencies()
    for _ in 0..<5 {
        let sent = now()
        var first: UInt64?
        _ = try client.run(handle: handle, prompt: prompt) { message, receivedAt in
            guard case .string(let text)? = message["text"], let stamp = UInt64(text), receivedAt >= stamp else {
                return
            }
            first = first ?? receivedAt
            socketPath.perToken.append(receivedAt - stamp)
        }
        socketPath.firstToken.append((first ?? sent) - sent)
        try generateOverHTTP(port: port, prompt: prompt, into: &httpPath)
    }
    print("generation: \(options.words)-word prompt, \(options.tokenMicros) us per token, 5 runs each, turn about")
    print("  socket: \(socketPath.summary)")
    print("  HTTP:   \(httpPath.summary)")
    print(
        String(
            format: "  HTTP adds %.1f us per token (p50) and %.1f us to the first token (p50) over the socket",
            httpPath.p50(\.perToken) - socketPath.p50(\.perToken),
            httpPath.p50(\.firstToken) - socketPath.p50(\.firstToken)))
}

private struct Latencies {
    var perToken: [UInt64] = []
    var firstToken: [UInt64] = []

    func p50(_ path: KeyPath<Latencies, [UInt64]>) -> Double { percentile(self[keyPath: path], 0.5) }

    var summary: String {
        String(
            format: "per token p50 %.1f us, p99 %.1f us; first token p50 %.1f us, p99 %.1f us",
            percentile(perToken, 0.5),
            percentile(perToken, 0.99), percentile(firstToken, 0.5), percentile(firstToken, 0.99))
    }
}

/// The port the daemon's log says its HTTP front bound.
private func httpPort(_ log: String) throws -> UInt16 {
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
        if let port = LoopbackTCP.httpPort(inLog: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "") {
            return port
        }
        usleep(20_000)
    }
    throw BenchError("no HTTP address in \(log)")
}

/// `GET /api/version` on N keep-alive connections spread over threads, a request per connection per round.
private func httpVersion(_ options: Options, port: UInt16) throws {
    let request = Array("GET /api/version HTTP/1.1\r\nHost: bench\r\n\r\n".utf8)
    let connections = try (0..<options.connections).map { _ in try LoopbackTCP.connect(port: port) }
    defer { connections.forEach { close($0) } }
    let load = try rounds(
        over: connections, threads: options.threads, duration: options.duration, bufferSize: 1 << 16
    ) { mine, buffer, _ in
        for fd in mine { try sendAll(fd, request) }
        for fd in mine { try readResponse(fd, into: &buffer) }
        return mine.count
    }
    print(
        String(
            format: "http: GET /api/version, %d keep-alive connections, %d client threads, %.1f s: %.0f requests/s",
            options.connections, load.threads, load.seconds, Double(load.requests) / load.seconds))
}

/// Reads one response with a Content-Length body (the version endpoint's).
private func readResponse(_ fd: Int32, into buffer: inout [UInt8]) throws {
    var total = 0
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
        guard n > 0 else { throw BenchError("read: the HTTP connection closed") }
        total += n
        let text = String(decoding: buffer[0..<total], as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n"), let length = text.range(of: "Content-Length: ") else { continue }
        let size = Int(text[length.upperBound...].prefix { $0.isNumber }) ?? 0
        if text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + size <= total { return }
    }
}

/// One streamed `/api/generate`: each NDJSON line's token stamp against when its bytes arrived.
private func generateOverHTTP(port: UInt16, prompt: String, into latencies: inout Latencies) throws {
    let fd = try LoopbackTCP.connect(port: port)
    defer { close(fd) }
    let body = JSONValue.object(["model": "demo", "prompt": .string(prompt)]).jsonText
    let sent = now()
    try sendAll(fd, Array("POST /api/generate HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
    var pending: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var first: UInt64?
    while true {
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&ready, 1, 0) == 0 {}
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { throw BenchError("the HTTP stream ended early") }
        let receivedAt = now()
        pending += buffer[0..<n]
        // NDJSON objects inside chunks: each complete `{"model"...}` line.
        while let open = pending.firstIndex(of: UInt8(ascii: "{")),
            let newline = pending[open...].firstIndex(of: 0x0A)
        {
            let message = try JSONParser.parse(Array(pending[open..<newline]))
            pending.removeSubrange(...newline)
            if message["done"] == true {
                latencies.firstToken.append((first ?? sent) - sent)
                return
            }
            guard case .string(let text)? = message["response"], let stamp = UInt64(text), receivedAt >= stamp else {
                continue
            }
            first = first ?? receivedAt
            latencies.perToken.append(receivedAt - stamp)
        }
    }
}
