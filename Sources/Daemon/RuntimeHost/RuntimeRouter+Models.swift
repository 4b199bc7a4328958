import BindingRuntime
import Foundation
import RPCServer

/// `server.models`: what clients can name and what is loaded. The files are those of each
/// runtime's path kinds that have extensions (`model`: `.rkllm`, `.rknn`), by the name a client
/// may give (`demo`: the first directory's file wins, as PathPolicy resolves it); the loaded
/// objects are those a caller may see (the shared ones anyone may join, and its own) with their
/// creating call, ABI, process, users and queue: another client's own objects stay its business.
/// The directories are read off the event loop. Loop thread only.
extension RuntimeRouter {
    func modelsMethod() -> ServerMethod {
        let description = ServerMethod.describe(
            "server.models",
            summary:
                "The files clients can name in each runtime's directories (by name, without the extension) "
                + "and the objects loaded that are shared or yours: their creating parameters, ABI, process, "
                + "users and queue, and for one no client holds, how long until it is unloaded.",
            result: [
                "type": "object",
                "properties": [
                    "files": ["type": "array", "items": ["type": "object"]],
                    "loaded": ["type": "array", "items": ["type": "object"]],
                ],
            ])
        return ServerMethod(name: "server.models", description: description) { [unowned self] call in
            let loaded = loaded(seenBy: call.connection)
            let runtimes = order.compactMap { namespace in
                self.runtimes[namespace].map { (namespace, $0.runtime.hostSettings) }
            }
            DispatchQueue.global().async {
                call.respond(.success(.object(["files": .array(Self.files(of: runtimes)), "loaded": .array(loaded)])))
            }
        }
    }

    /// The model files of each runtime's directories (any thread: it reads only `runtimes`).
    private static func files(of runtimes: [(namespace: String, settings: HostSettings)]) -> [JSONValue] {
        var files: [JSONValue] = []
        for (namespace, settings) in runtimes {
            for (kind, extensions) in settings.extensions.sorted(by: { $0.key < $1.key }) {
                var named = Set<String>()
                for directory in settings.paths[kind] ?? [] {
                    let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                    for file in entries.sorted() {
                        guard let ext = extensions.first(where: { file.hasSuffix($0) && file.count > $0.count }) else {
                            continue
                        }
                        let name = String(file.dropLast(ext.count))
                        let path = directory + "/" + file
                        guard named.insert(name).inserted,
                            let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                            attributes[.type] as? FileAttributeType == .typeRegular
                        else { continue }
                        files.append(
                            .object([
                                "name": .string(name), "path": .string(path), "runtime": .string(namespace),
                                "kind": .string(kind),
                                "size": .int(Int64((attributes[.size] as? NSNumber)?.int64Value ?? 0)),
                            ]))
                    }
                }
            }
        }
        return files
    }

    /// `server.keep_alive {"handle", "seconds"}`: how long the object of one of the caller's
    /// handles stays loaded once no client holds it (0: unloaded then; negative: until the daemon
    /// stops), instead of the daemon's keep-alive. The last client to say it decides.
    func keepAliveMethod() -> ServerMethod {
        let description: JSONValue = [
            "name": "server.keep_alive", "paramStructure": "either",
            "summary": .string(
                "How long the object of one of your handles stays loaded once no client holds it, in seconds "
                    + "(0: unloaded then; negative: until the daemon stops; at most 3153600000, 100 years), instead of "
                    + "the daemon's keep-alive."),
            "params": [
                ["name": "handle", "required": true, "schema": ["type": "integer"]],
                [
                    "name": "seconds", "required": true,
                    "schema": ["type": "number", "maximum": .double(CheckedNumbers.maxDurationSeconds)],
                ],
            ],
            "result": [
                "name": "result", "schema": ["type": "object", "properties": ["keep_alive_s": ["type": "number"]]],
            ],
        ]
        return ServerMethod(name: "server.keep_alive", description: description) { [unowned self] call in
            let params = call.params
            let handle = params?["handle"] ?? params?[0]
            let seconds = params?["seconds"] ?? params?[1]
            guard case .int(let id)? = handle, let held = handles[id], held.owner == call.connection else {
                return call.respond(.failure(.invalidParams("handle", "expected one of your handles")))
            }
            let value: Double
            switch Result(catching: { () throws(CheckedNumbers.OutOfRange) in
                try CheckedNumbers.seconds(seconds, "seconds", negativeMeansForever: true)
            }) {
            case .success(let given?): value = given
            case .success(nil): return call.respond(.failure(.invalidParams("seconds", "expected a number")))
            case .failure(let error):
                return call.respond(.failure(.invalidParams("seconds", "expected \(error.expected)")))
            }
            held.object.keepAlive = value
            call.respond(.success(["keep_alive_s": .double(value)]))
        }
    }

    private func loaded(seenBy connection: UInt64) -> [JSONValue] {
        let visible = liveObjects().filter {
            ($0.shareKey != nil && !$0.isPrivate) || handles.isHeld($0, by: connection)
        }
        return visible.map { object in
            let namespace = object.host.namespace
            var entry: JSONObject = [
                "runtime": .string(namespace), "type": .string(object.type), "created_by": .string(object.createdBy),
                "pid": .int(Int64(object.host.pid)), "users": .int(Int64(object.references)),
                "shared": .bool(object.shareKey != nil && !object.isPrivate),
                "running": .bool(object.calls.running != nil), "queued": .int(Int64(object.calls.waiting.count)),
            ]
            if let creation = object.creation { entry["params"] = Self.named(creation.params, entry: creation.entry) }
            if let abi = runtimes[namespace]?.table.manifest.abiVersion { entry["abi"] = .string(abi) }
            // Unused and kept loaded for the keep-alive: how long until it is unloaded.
            if let since = object.unusedSince {
                let idle = Double(EventLoop.now() - since) / 1e9
                entry["idle_s"] = .double((idle * 10).rounded() / 10)
                let keepAlive = object.keepAlive ?? limits.keepAlive
                if keepAlive > 0 { entry["unloads_in_s"] = .double((max(0, keepAlive - idle) * 10).rounded() / 10) }
            }
            return .object(entry)
        }
    }
}
