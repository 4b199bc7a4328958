import Foundation
import RPCServer

/// What the ping client sends and the reply it expects (checked once, on the first reply): the
/// daemon's `server.ping`, and Redis's `PING` for the anchor. Replies are counted by newlines.
struct Probe {
    let request: [UInt8]
    let reply: String

    static let daemon = Probe(
        request: Array(#"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"#.utf8) + [0x0A],
        reply: #""result":"pong""#)
    static let redis = Probe(request: Array("PING\r\n".utf8), reply: "+PONG")
}

/// Requests/s and the round trip of one round (`depth` requests per connection), in microseconds.
struct PingResult {
    var connections: Int
    var depth: Int
    var threads: Int
    var seconds: Double
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double

    func print(_ name: String) {
        Swift.print(
            String(
                format: "%@: %d connections, depth %d, %d client threads, %.1f s", name, connections, depth,
                threads, seconds))
        Swift.print(String(format: "  %.0f requests/s", requestsPerSecond))
        Swift.print(
            String(
                format: "  round trip (a round of %d requests per connection): p50 %.1f us, p99 %.1f us", depth,
                p50, p99))
    }
}

/// N connections spread over threads; each round sends `depth` requests on every connection of the
/// thread, then reads every reply. Latency is per request: send to reply of its round.
func ping(_ options: Options, socket: String, probe: Probe = .daemon) throws -> PingResult {
    let batch = Array([[UInt8]](repeating: probe.request, count: options.depth).joined())
    let connections = try (0..<options.connections).map { _ in try connect(socket) }
    defer { connections.forEach { close($0) } }
    var check = [UInt8](repeating: 0, count: 4096)
    try sendAll(connections[0], probe.request)
    let n = try readLines(connections[0], 1, into: &check)
    let first = String(decoding: check[0..<n], as: UTF8.self)
    guard first.contains(probe.reply) else { throw BenchError("unexpected reply: \(first)") }

    let batchSize = options.depth
    let load = try rounds(
        over: connections, threads: options.threads, duration: options.duration, bufferSize: 1 << 20
    ) { mine, buffer, latencies in
        let started = now()
        for fd in mine { try sendAll(fd, batch) }
        for fd in mine {
            _ = try readLines(fd, batchSize, into: &buffer)
            latencies.append(now() - started)
        }
        return mine.count * batchSize
    }
    return PingResult(
        connections: options.connections, depth: options.depth, threads: load.threads, seconds: load.seconds,
        requestsPerSecond: Double(load.requests) / load.seconds, p50: percentile(load.latencies, 0.5),
        p99: percentile(load.latencies, 0.99))
}
