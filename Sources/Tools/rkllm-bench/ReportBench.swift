import Foundation

/// `rkllm-bench report [--duration 2] [--rounds 5] [--frames 50] [--idle 10000]`: every figure of
/// the daemon's performance in one run, each beside its anchor measured in the same run, the ratio
/// and the target (docs/PERFORMANCE.md keeps the last table and says what limits each figure).
///
/// Requests/s alternate in rounds (the floor, redis-server when installed, the daemon, the daemon
/// with `--io-uring off`) from 100 connections, pipelined 16 deep and not at all; each ratio is
/// the median of the rounds' ratios, so that a machine that slows down for a while slows every
/// server of a round alike.
func report(_ options: Options) throws {
    var rows: [ReportRow] = []
    rows += try throughputRows(options)

    let frames = try frameFigures(frames: options.frames)
    // Each byte of a frame's three calls once, give or take an envelope: the daemon's call ids to
    // the host are its own, not the client's (a few bytes a call).
    let envelopes = Double(3 * 32)
    rows.append(
        ReportRow(
            "base64 frame: bytes the daemon relayed", String(format: "%.0f B", frames.base64Relayed),
            anchor: String(
                format: "%.0f B requests + answers, + %.0f B for 3 envelopes", frames.base64Exchanged, envelopes),
            ratio: frames.base64Relayed / (frames.base64Exchanged + envelopes), target: .atMost(1)))
    rows.append(
        ReportRow(
            "base64 frame: the daemon's CPU", String(format: "%.2f ms", frames.base64DaemonCPU / 1e6),
            anchor: String(format: "%.2f ms zero-copy", frames.zeroCopyDaemonCPU / 1e6),
            ratio: frames.base64DaemonCPU / frames.zeroCopyDaemonCPU))
    rows.append(
        ReportRow(
            "zero-copy frame: bytes the daemon relayed", bytes(frames.zeroCopyRelayed),
            anchor: "\(bytes(640 * 640 * 3)) frame", ratio: frames.zeroCopyRelayed / Double(640 * 640 * 3)))
    rows.append(
        ReportRow(
            "frames/s, base64 against zero-copy", String(format: "%.1f", frames.base64FramesPerSecond),
            anchor: String(format: "%.1f zero-copy", frames.zeroCopyFramesPerSecond),
            ratio: frames.base64FramesPerSecond / frames.zeroCopyFramesPerSecond))

    let first = try firstToken(runs: 200, tokenMicros: options.tokenMicros)
    for (name, daemon, runtime) in [
        ("p50", first.daemon.p50, first.runtime.p50), ("p99", first.daemon.p99, first.runtime.p99),
    ] {
        rows.append(
            ReportRow(
                "first token, \(name): added by the daemon", String(format: "%.0f us", daemon - runtime),
                anchor: String(format: "%.0f us the runtime's own", runtime), ratio: daemon / runtime))
    }

    let target = try Target(socket: nil, maxConnections: options.idleConnections)
    let idle = try idleMemory(connections: options.idleConnections, target)
    target.stop()
    rows.append(
        ReportRow(
            "daemon memory per idle connection", String(format: "%.0f B", idle.perConnection),
            anchor:
                "\(options.idleConnections) connections, RSS \(idle.beforeKiB / 1024) -> \(idle.afterKiB / 1024) MiB"
        ))
    let one = try hostMemory(clients: 1, shared: false)
    rows.append(
        ReportRow(
            "RKNN runtime host, one context", String(format: "%.1f MiB PSS", one.proportionalMiB),
            anchor: String(format: "%.1f MiB resident", one.residentMiB)))
    let clients = 20
    let perClient = try hostMemory(clients: clients, shared: false)
    let shared = try hostMemory(clients: clients, shared: true)
    rows.append(
        ReportRow(
            "RKNN host per client: PSS per client",
            String(format: "%.1f MiB", perClient.proportionalMiB / Double(clients)),
            anchor: String(format: "%.2f MiB on one shared host", shared.proportionalMiB / Double(clients)),
            ratio: perClient.proportionalMiB / shared.proportionalMiB))

    ReportRow.print(rows)
}

/// Requests/s of `server.ping` against the floor and Redis's PING, both depths, in rounds; and
/// against the same daemon writing each reply with a system call of its own (`--io-uring off`),
/// what writing an iteration's replies in one buys.
private func throughputRows(_ options: Options) throws -> [ReportRow] {
    let daemon = try Target(socket: nil, maxConnections: options.connections)
    defer { daemon.stop() }
    let oneSendEach = try Target(
        socket: nil, maxConnections: options.connections, arguments: ["--io-uring", "off"])
    defer { oneSendEach.stop() }
    let floor = try FloorServer()
    defer { floor.stop() }
    let redis = try RedisServer()
    defer { redis?.stop() }
    var rows: [ReportRow] = []
    for (depth, floorTarget, redisTarget) in [(16, 0.8, 1.2), (1, 1.0, 1.1)] {
        var run = options
        run.depth = depth
        var rates: (daemon: [Double], floor: [Double], redis: [Double], oneSendEach: [Double]) = ([], [], [], [])
        for _ in 0..<options.rounds {
            rates.floor.append(try ping(run, socket: floor.socket).requestsPerSecond)
            if let redis { rates.redis.append(try ping(run, socket: redis.socket, probe: .redis).requestsPerSecond) }
            rates.daemon.append(try ping(run, socket: daemon.socket).requestsPerSecond)
            rates.oneSendEach.append(try ping(run, socket: oneSendEach.socket).requestsPerSecond)
        }
        let shape = depth == 1 ? "unpipelined" : "pipelined \(depth) deep"
        let value = String(format: "%.0f/s", median(rates.daemon))
        rows.append(
            ReportRow(
                "server.ping, \(shape)", value, anchor: String(format: "%.0f/s floor", median(rates.floor)),
                ratio: median(zip(rates.daemon, rates.floor).map(/)), target: .atLeast(floorTarget)))
        if redis != nil {
            rows.append(
                ReportRow(
                    "server.ping, \(shape)", value, anchor: String(format: "%.0f/s redis PING", median(rates.redis)),
                    ratio: median(zip(rates.daemon, rates.redis).map(/)), target: .atLeast(redisTarget)))
        }
        rows.append(
            ReportRow(
                "server.ping, \(shape)", value,
                anchor: String(format: "%.0f/s one send per reply", median(rates.oneSendEach)),
                ratio: median(zip(rates.daemon, rates.oneSendEach).map(/))))
    }
    if redis == nil { print("(redis-server is not installed: no Redis anchor; apt-get install redis-server)") }
    return rows
}

private func bytes(_ count: Double) -> String {
    count >= 1e6 ? String(format: "%.2f MB", count / 1e6) : String(format: "%.0f B", count)
}

/// One line of the report's table.
struct ReportRow {
    enum Target {
        case atLeast(Double)
        case atMost(Double)

        var text: String {
            switch self {
            case .atLeast(let x): String(format: ">= %.2fx", x)
            case .atMost(let x): String(format: "<= %.2fx", x)
            }
        }

        func holds(_ ratio: Double) -> Bool {
            switch self {
            case .atLeast(let x): ratio >= x
            case .atMost(let x): ratio <= x
            }
        }
    }

    var figure: String
    var value: String
    var anchor: String
    var ratio: Double?
    var target: Target?

    init(_ figure: String, _ value: String, anchor: String, ratio: Double? = nil, target: Target? = nil) {
        self.figure = figure
        self.value = value
        self.anchor = anchor
        self.ratio = ratio
        self.target = target
    }

    /// A Markdown table (docs/PERFORMANCE.md keeps it as printed).
    static func print(_ rows: [ReportRow]) {
        Swift.print("| figure | value | anchor (same run) | ratio | target | holds |")
        Swift.print("|---|---|---|---|---|---|")
        for row in rows {
            let ratio = row.ratio.map { String(format: "%.2fx", $0) } ?? ""
            let holds = row.ratio.flatMap { ratio in row.target.map { $0.holds(ratio) ? "yes" : "**no**" } } ?? ""
            Swift.print(
                "| \(row.figure) | \(row.value) | \(row.anchor) | \(ratio) | \(row.target?.text ?? "") | \(holds) |")
        }
    }
}
