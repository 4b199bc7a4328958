import BindingRuntime
import RPCServer

/// The generated tables as server methods: `get_constants` answered from the headers, every C
/// function routed to the runtime host process that owns it, each described by its runtime's
/// generated OpenRPC document.
public enum GeneratedMethods {
    /// Every runtime's methods, and the schemas their documents share out (`components`), merged:
    /// each document read once.
    public static func serving(_ runtimes: [RuntimeSetup], router: RuntimeRouter) -> (
        methods: [ServerMethod], openRPCComponents: JSONValue
    ) {
        var methods: [ServerMethod] = []
        var schemas = JSONObject()
        for runtime in runtimes {
            let document = (try? JSONParser.parse(runtime.hosted.openRPC)) ?? .object([:])
            if case .object(let own)? = document["components"]?["schemas"] {
                for (name, schema) in own.pairs { schemas[name] = schema }
            }
            var described: [String: JSONValue] = [:]
            if case .array(let items)? = document["methods"] {
                for item in items { if case .string(let name)? = item["name"] { described[name] = item } }
            }
            for entry in runtime.hosted.entries {
                let description = described[entry.method] ?? .object(["name": .string(entry.method)])
                guard entry.symbol != nil else {
                    methods.append(
                        ServerMethod(name: entry.method, description: description) { request in
                            try entry.call(params: request.params, host: NoHandles(), lookup: { _ in nil })
                        })
                    continue
                }
                methods.append(
                    ServerMethod(
                        name: entry.method, description: description, fileDescriptors: entry.params.filter(\.fd).count
                    ) { call in
                        router.route(call, entry: entry)
                    })
            }
        }
        return (methods, .object(["schemas": .object(schemas)]))
    }
}

/// The host of calls that take no handles, callbacks or descriptors.
final class NoHandles: CallHost {
    func resolveHandle(_ id: JSONValue, type: String, path: String) throws -> UInt64 {
        throw RPCError.invalidParams(path, "no handles here")
    }
    func registerHandle(_ raw: UInt64, type: String) -> JSONValue { .null }
    func releaseHandle(_ id: JSONValue, type: String) {}
    func callbackContext(for callback: String, value: JSONValue) throws -> UnsafeMutableRawPointer? { nil }
    func fileDescriptor(_ value: JSONValue, path: String) throws -> Int32 {
        throw RPCError.invalidParams(path, "no file descriptors here")
    }
    func exportFileDescriptor(_ fd: Int32) throws -> JSONValue {
        throw RPCError(code: RPCError.Code.internalError, message: "no file descriptors here")
    }
    func confinePath(_ value: String, kind: String, path: String) throws -> String {
        throw RPCError(code: RPCError.Code.notPermitted, message: "\(path): no paths here")
    }
    func plugin(library: String, symbol: String) throws -> UnsafeRawPointer {
        throw RPCError(code: RPCError.Code.notPermitted, message: "no plugins here")
    }
}
