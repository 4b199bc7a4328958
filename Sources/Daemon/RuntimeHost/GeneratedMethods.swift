import BindingRuntime
import RPCServer

/// The generated tables as server methods: `get_constants` answered from the headers, every C
/// function routed to the runtime host process that owns it, described by the generated OpenRPC
/// document.
public struct GeneratedMethods {
    let document: JSONValue

    /// `openRPC`: the generated OpenRPC document (`{"methods": [...], "components": {...}}`).
    public init(openRPC: String) {
        document = (try? JSONParser.parse(openRPC)) ?? .object([:])
    }

    public var openRPCComponents: JSONValue? { document["components"] }

    func description(of method: String) -> JSONValue {
        guard case .array(let methods)? = document["methods"] else { return .object(["name": .string(method)]) }
        return methods.first { $0["name"] == .string(method) } ?? .object(["name": .string(method)])
    }

    public func methods(of runtimes: [RuntimeSetup], router: RuntimeRouter) -> [ServerMethod] {
        runtimes.flatMap(\.hosted.entries).map { entry in
            guard entry.symbol != nil else {
                return ServerMethod(name: entry.method, description: description(of: entry.method)) { request in
                    try entry.call(params: request.params, host: NoHandles(), lookup: { _ in nil })
                }
            }
            return ServerMethod(
                name: entry.method, description: description(of: entry.method),
                fileDescriptors: entry.params.filter(\.fd).count
            ) { call in
                router.route(call, entry: entry)
            }
        }
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
