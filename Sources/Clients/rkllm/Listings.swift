import BindingRuntime
import Foundation
import RKClient

/// The subcommands that show what the daemon has: `models`, `ps`, `info`, `stats`, `coverage`.
/// Each prints a table, or with `--json` the daemon's own answer.
enum Listings {
    static let models = listing(
        "models", "the models on disk, by name (a name loads the file of its runtime)", method: "server.models"
    ) { answer in
        let files = answer["files"]?.arrayValue ?? []
        guard !files.isEmpty else { return Console.line("no models in the daemon's model directories") }
        Console.table(
            [["NAME", "RUNTIME", "KIND", "SIZE", "PATH"]]
                + files.map { file in
                    [
                        string(file["name"]), string(file["runtime"]), string(file["kind"]),
                        byteCount(file["size"]?.intValue ?? 0), string(file["path"]),
                    ]
                })
    }

    static let ps = listing("ps", "the models loaded now: who holds them, what they do", method: "server.models") {
        answer in
        let loaded = answer["loaded"]?.arrayValue ?? []
        guard !loaded.isEmpty else { return Console.line("no model is loaded") }
        Console.table(
            [["RUNTIME", "MODEL", "USERS", "STATE", "PID", "ABI"]]
                + loaded.map { object in
                    var state = object["running"] == .bool(true) ? "running" : "idle"
                    if let queued = object["queued"]?.intValue, queued > 0 { state += ", \(queued) queued" }
                    if let unloads = object["unloads_in_s"]?.doubleValue {
                        state += String(format: ", unloads in %.0f s", unloads)
                    }
                    let users = "\(object["users"]?.intValue ?? 0)" + (object["shared"] == .bool(true) ? " shared" : "")
                    return [
                        string(object["runtime"]), path(in: object["params"]) ?? string(object["type"]), users, state,
                        string(object["pid"]), string(object["abi"]),
                    ]
                })
    }

    static let info = listing(
        "info", "the daemon: version, limits, runtimes and their libraries", method: "server.info"
    ) {
        answer in
        Console.line(
            "\(string(answer["name"])) \(string(answer["version"])), pid \(string(answer["pid"])), on \(string(answer["socket"]))"
        )
        for runtime in answer["runtimes"]?.arrayValue ?? [] {
            Console.line(runtimeLine(runtime))
        }
        if case .object(let limits)? = answer["limits"] {
            Console.line("limits: " + limits.pairs.map { "\($0.key) \($0.value.jsonText)" }.joined(separator: ", "))
        }
    }

    static let stats = listing(
        "stats", "the daemon's counters: connections, requests, runtimes, methods", method: "server.stats"
    ) {
        answer in
        let connections = answer["connections"]
        Console.line(
            String(format: "up %.0f s; ", answer["uptime_s"]?.doubleValue ?? 0)
                + "connections \(string(connections?["open"])) open, \(string(connections?["accepted"])) accepted, "
                + "\(string(connections?["rejected"])) rejected; requests \(string(answer["requests"])), errors \(string(answer["errors"]))"
        )
        if case .object(let runtimes)? = answer["runtimes"] {
            for (name, runtime) in runtimes.pairs {
                Console.line(
                    "\(name): \(string(runtime["hosts_running"])) host(s) running, \(string(runtime["objects"])) object(s), "
                        + "\(string(runtime["streams_running"])) stream(s) running and \(string(runtime["streams_queued"])) queued, "
                        + "\(string(runtime["crashes"])) crash(es)")
            }
        }
        guard case .object(let methods)? = answer["methods"], !methods.pairs.isEmpty else { return }
        let rows = methods.pairs.sorted { ($0.value["calls"]?.intValue ?? 0) > ($1.value["calls"]?.intValue ?? 0) }
        Console.table(
            [["METHOD", "CALLS", "ERRORS", "MEAN", "P99"]]
                + rows.map { name, method in
                    [
                        name, string(method["calls"]), string(method["errors"]),
                        microseconds(method["mean_us"]), microseconds(method["p99_us"]),
                    ]
                })
    }

    static let coverage = Subcommand(
        name: "coverage", synopsis: "", summary: "which methods the daemon's runtime libraries resolved",
        options: [.flag("json", "the methods and their functions as JSON")]
    ) { invocation in
        let client = try invocation.connect()
        let methods = try await client.call("rpc.discover")["methods"]?.arrayValue ?? []
        let runtimes = try await client.call("server.info")["runtimes"]?.arrayValue ?? []
        var rows: [[String]] = []
        var report: JSONObject = [:]
        for runtime in runtimes {
            let namespace = string(runtime["namespace"])
            let resolved = Set((runtime["resolved"]?.arrayValue ?? []).compactMap(\.stringValue))
            if !invocation.arguments.flag("json") { Console.line(runtimeLine(runtime)) }
            for method in methods where string(method["name"]).hasPrefix(namespace + ".") {
                guard let function = method["x-function"]?.stringValue else { continue }
                let state =
                    runtime["available"] != .bool(true)
                    ? "no library" : resolved.contains(function) ? "resolved" : "not in the library"
                rows.append([string(method["name"]), function, state])
                report[string(method["name"])] = ["function": .string(function), "state": .string(state)]
            }
        }
        if invocation.arguments.flag("json") { return Console.line(JSONValue.object(report).jsonText) }
        Console.table([["METHOD", "FUNCTION", "STATE"]] + rows)
    }

    /// A subcommand that calls `method` and shows its answer with `show` (or as JSON).
    private static func listing(
        _ name: String, _ summary: String, method: String, show: @escaping @Sendable (JSONValue) -> Void
    ) -> Subcommand {
        Subcommand(
            name: name, synopsis: "", summary: summary, options: [.flag("json", "the daemon's answer as JSON")]
        ) { invocation in
            let answer = try await invocation.connect().call(method)
            if invocation.arguments.flag("json") { return Console.line(answer.jsonText) }
            show(answer)
        }
    }

    private static func runtimeLine(_ runtime: JSONValue) -> String {
        var line = "\(string(runtime["namespace"])): "
        guard runtime["available"] == .bool(true) else {
            return line + "no library (\(string(runtime["library"])): \(string(runtime["reason"])))"
        }
        line += string(runtime["library"])
        if let vendor = runtime["instead_of"]?.stringValue { line += " (simulated, instead of \(vendor))" }
        if let abi = runtime["abi"]?.stringValue { line += ", ABI \(abi)" }
        let resolved = runtime["resolved"]?.arrayValue?.count ?? 0
        let missing = runtime["not_present"]?.arrayValue?.count ?? 0
        return line + ", \(resolved) of \(resolved + missing) functions resolved"
    }

    /// The first file path among an object's creating parameters.
    private static func path(in params: JSONValue?) -> String? {
        switch params {
        case .object(let object)?:
            for (key, value) in object.pairs {
                if key.hasSuffix("path"), let path = value.stringValue { return path }
                if let path = path(in: value) { return path }
            }
            return nil
        default: return nil
        }
    }

    private static func string(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: text
        case nil, .null?: "-"
        case let value?: value.jsonText
        }
    }

    private static func byteCount(_ bytes: Int) -> String {
        bytes < 1 << 20 ? "\(bytes) B" : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    private static func microseconds(_ value: JSONValue?) -> String {
        guard let us = value?.doubleValue else { return "-" }
        return us < 1000 ? String(format: "%.0f us", us) : String(format: "%.1f ms", us / 1000)
    }
}
