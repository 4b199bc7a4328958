import BindingRuntime
import Glibc

/// The server's own methods: server.ping, server.info, server.stats, rpc.discover.
extension Server {
    func builtinMethods() -> [ServerMethod] {
        [
            .immediate("server.ping", summary: "Answers \"pong\"", result: ["type": "string"]) { _ in "pong" },
            .immediate("server.info", summary: "Version, runtimes, limits") { [unowned self] _ in info() },
            .immediate("server.stats", summary: "Connections, requests, errors, per-method counts and latency") {
                [unowned self] _ in statsJSON()
            },
            .immediate("rpc.discover", summary: "The OpenRPC document of every method") { [unowned self] _ in discover()
            },
        ]
    }

    func info() -> JSONValue {
        var object: JSONObject = [
            "name": "rkllm-server",
            "version": .string(version),
            "pid": .int(Int64(getpid())),
            "socket": .string(configuration.socketPath),
            "limits": .object([
                "max_connections": .int(Int64(configuration.maxConnections)),
                "max_message_bytes": .int(Int64(configuration.maxMessageBytes)),
                "max_output_bytes": .int(Int64(configuration.maxOutputBytes)),
                "run_timeout_s": .double(configuration.runTimeout),
                "shutdown_timeout_s": .double(configuration.shutdownTimeout),
            ]),
        ]
        for provider in infoProviders {
            let (key, value) = provider()
            object[key] = value
        }
        return .object(object)
    }

    func statsJSON() -> JSONValue {
        let perMethod = JSONObject(
            methods.keys.sorted().compactMap { name in
                methods[name].flatMap { $0.stats.calls > 0 ? (name, $0.stats.json) : nil }
            })
        var object: JSONObject = [
            "uptime_s": .double(Double(EventLoop.now() - stats.started) / 1e9),
            "connections": .object([
                "open": .int(Int64(openConnections)),
                "accepted": .int(Int64(stats.connectionsAccepted)),
                "rejected": .int(Int64(stats.connectionsRejected)),
                "dropped_slow_readers": .int(Int64(stats.clientsDroppedForSlowReading)),
                "replies_too_large": .int(Int64(stats.repliesTooLarge)),
                "lines_over_input_cap": .int(Int64(stats.linesOverInputCap)),
                "buffered_input_bytes": .int(Int64(buffered.input)),
                "buffered_output_bytes": .int(Int64(buffered.output)),
            ]),
            "requests": .int(Int64(stats.requests)),
            "notifications": .int(Int64(stats.notifications)),
            "errors": .int(Int64(stats.errors)),
            "parse_errors": .int(Int64(stats.parseErrors)),
            "overlong_lines": .int(Int64(stats.overlongLines)),
            "bytes": .object([
                "from_clients": .int(Int64(stats.bytesFromClients)), "to_clients": .int(Int64(stats.bytesToClients)),
            ]),
            "writes": .object([
                "io_uring": .string(ringWriterState),
                "ring_sends": .int(Int64(ringWriter?.sends ?? 0)),
                "ring_system_calls": .int(Int64(ringWriter?.systemCalls ?? 0)),
            ]),
            "methods": .object(perMethod),
        ]
        for provider in statsProviders {
            let (key, value) = provider()
            object[key] = value
        }
        return .object(object)
    }

    func discover() -> JSONValue {
        var document: JSONObject = [
            "openrpc": "1.2.6",
            "info": .object(["title": "rkllm-server", "version": .string(version)]),
            "methods": .array(methodOrder.compactMap { methods[$0]?.method.description }),
        ]
        if let openRPCComponents { document["components"] = openRPCComponents }
        return .object(document)
    }
}
