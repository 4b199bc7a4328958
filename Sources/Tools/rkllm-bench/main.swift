import Foundation
import RPCServer
import Synchronization
import Wire

/// rkllm-bench: measures the daemon from outside, over its socket.
///
///   rkllm-bench report [--duration 2] [--rounds 5] [--frames 50] [--idle-connections 10000]
///                                     (every figure below beside its anchor, the ratio and the
///                                     target, as one Markdown table: docs/PERFORMANCE.md)
///   rkllm-bench ping [--connections 100] [--depth 1] [--duration 5] [--threads 2]
///   rkllm-bench --idle 10000          (or: rkllm-bench idle --connections 10000)
///   rkllm-bench floor [--connections 100] [--depth 1] ...   (the same client against FloorServer)
///   rkllm-bench redis [--connections 100] [--depth 1] ...   (the same client: redis-server's PING)
///   rkllm-bench parse                 (the JSON-RPC request path alone, ns per request)
///   rkllm-bench tokens [--words 2000] [--token-us 1000]   (generation through the daemon vs direct;
///                                     the latency the daemon adds per token)
///   rkllm-bench frames [--frames 100]  (the demo detector: base64 against zero-copy, base64 decode,
///                                     MatMul calls)
///   rkllm-bench hosts [--connections 100]  (an RKNN runtime host per client against one shared host:
///                                     memory per client, time to the first run)
///   rkllm-bench privacy              (a change to a shared model instance: the instance of its own it costs)
///   rkllm-bench turns [--words 20]   (a conversation's next turn: what it prefills and waits, twice in
///                                     a row and after another client)
///   rkllm-bench http [--connections 100] [--words 200]  (the HTTP front beside the socket: requests/s,
///                                     latency added per token and to the first token)
///
/// Without `--socket` it starts `rkllm-server` (the one built beside it) on a socket of its own and
/// stops it afterwards. `ping` prints requests/s and the round-trip latency of `server.ping`
/// (p50, p99); `idle` holds connections open and prints the daemon's resident memory per connection.
struct Options {
    var mode = "ping"
    var socket: String?
    var connections = 100
    var depth = 1
    var duration = 5.0
    var threads = 2
    var words = 2000
    var frames = 100
    var tokenMicros = 1000
    var rounds = 5
    var idleConnections = 10_000

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        if let first = rest.first, !first.hasPrefix("-") {
            mode = first
            rest = rest.dropFirst()
        }
        if mode == "report" {
            duration = 2  // a round of each server; five rounds of three servers at two depths
            frames = 50
        }
        // Prompts that fit the demo model's context window with its answer.
        if mode == "http" { words = 200 }
        if mode == "turns" { words = 20 }
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--socket": socket = value
            case "--connections": connections = try Self.positive(value)
            case "--idle":
                mode = "idle"
                connections = try Self.positive(value)
            case "--depth": depth = try Self.positive(value)
            case "--duration": duration = Double(value) ?? duration
            case "--threads": threads = try Self.positive(value)
            case "--words": words = try Self.positive(value)
            case "--frames": frames = try Self.positive(value)
            case "--token-us": tokenMicros = try Self.positive(value)
            case "--rounds": rounds = try Self.positive(value)
            case "--idle-connections": idleConnections = try Self.positive(value)
            default: throw BenchError("unknown option \(flag)")
            }
        }
    }

    static func positive(_ text: String) throws -> Int {
        guard let n = Int(text), n > 0 else { throw BenchError("'\(text)' is not a positive integer") }
        return n
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func connect(_ path: String) throws -> Int32 { try UnixSocket.connect(path) }

func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw BenchError("send: \(String(cString: strerror(errno)))") }
        sent += n
    }
}

/// Reads until `lines` newlines have arrived; returns the bytes (for a check of the first reply).
func readLines(_ fd: Int32, _ lines: Int, into buffer: inout [UInt8]) throws -> Int {
    var seen = 0
    var total = 0
    while seen < lines {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, $0.count - total) }
        guard n > 0 else { throw BenchError("read: connection closed") }
        for i in total..<(total + n) where buffer[i] == 0x0A { seen += 1 }
        total += n
        if total == buffer.count { total = 0 }
    }
    return total
}

/// A product built beside the benchmark (the daemon, the simulated runtimes).
func besideBench(_ name: String) -> String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: name).path
}

/// The repository's models/, the demo models (this file is Sources/Tools/rkllm-bench/main.swift).
let repositoryModels = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appending(path: "models").path

func now() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// The daemon under test: started here unless `--socket` names a running one.
final class Target {
    let socket: String
    private var process: Process?
    /// Targets started by this benchmark so far: each has a socket of its own.
    private static let started = Atomic<Int>(0)

    /// `log`: a file for the daemon's standard error (its log).
    init(socket: String?, maxConnections: Int, arguments: [String] = [], log: String? = nil) throws {
        if let socket {
            self.socket = socket
            return
        }
        let number = Self.started.add(1, ordering: .relaxed).newValue
        self.socket = "/tmp/rkllm-bench-\(getpid())-\(number).sock"
        let server = URL(fileURLWithPath: besideBench("rkllm-server"))
        let process = Process()
        process.executableURL = server
        process.arguments =
            ["--socket", self.socket, "--max-connections", String(maxConnections + 16), "--log-level", "2"] + arguments
        if let log {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log)
        }
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let fd = try? connect(self.socket) {
                close(fd)
                return
            }
            usleep(20_000)
        }
        throw BenchError("rkllm-server did not start on \(self.socket)")
    }

    /// The daemon's pid, from server.info.
    func pid() throws -> Int32 {
        let fd = try connect(socket)
        defer { close(fd) }
        try sendAll(fd, Array(#"{"jsonrpc":"2.0","id":1,"method":"server.info"}"#.utf8) + [0x0A])
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let n = try readLines(fd, 1, into: &buffer)
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        guard let range = text.range(of: #""pid":"#),
            let pid = Int32(text[range.upperBound...].prefix { $0.isNumber })
        else { throw BenchError("no pid in \(text)") }
        return pid
    }

    func residentKiB() throws -> Int { memoryKiB(try pid(), "status", "VmRSS:") }

    func stop() {
        guard let process else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Holds N idle connections: the daemon's resident memory before and after, and per connection.
func idleMemory(connections count: Int, _ target: Target) throws -> (
    beforeKiB: Int, afterKiB: Int, perConnection: Double
) {
    let before = try target.residentKiB()
    var connections: [Int32] = []
    defer { connections.forEach { close($0) } }
    for _ in 0..<count { connections.append(try connect(target.socket)) }
    // One request on the last connection: by its answer every earlier connection was accepted.
    try sendAll(connections.last!, Probe.daemon.request)
    var buffer = [UInt8](repeating: 0, count: 4096)
    _ = try readLines(connections.last!, 1, into: &buffer)
    usleep(200_000)
    let after = try target.residentKiB()
    return (before, after, Double(after - before) * 1024 / Double(count))
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    switch options.mode {
    case "parse": requestPath(options)
    case "tokens": try tokens(options)
    case "frames": try frames(options)
    case "hosts": try hosts(options)
    case "privacy": try privacy(options)
    case "turns": try turns(options)
    case "http": try http(options)
    case "report": try report(options)
    case "floor":
        let floor = try FloorServer()
        defer { floor.stop() }
        try ping(options, socket: floor.socket).print("floor")
    case "redis":
        guard let redis = try RedisServer() else { throw BenchError("redis-server is not installed") }
        defer { redis.stop() }
        try ping(options, socket: redis.socket, probe: .redis).print("redis PING")
    case "ping", "idle":
        let target = try Target(socket: options.socket, maxConnections: options.connections)
        defer { target.stop() }
        if options.mode == "ping" {
            try ping(options, socket: target.socket).print("ping")
        } else {
            let memory = try idleMemory(connections: options.connections, target)
            print("idle: \(options.connections) connections held")
            print(
                String(
                    format: "  daemon RSS %d KiB -> %d KiB: %.2f bytes per connection", memory.beforeKiB,
                    memory.afterKiB, memory.perConnection))
        }
    default:
        throw BenchError(
            "unknown mode \(options.mode) (report, ping, idle, floor, redis, parse, tokens, frames, hosts, privacy, turns, http)"
        )
    }
} catch {
    FileHandle.standardError.write(Data("rkllm-bench: \(error)\n".utf8))
    exit(1)
}
