import BindingRuntime
import RPCServer

/// The generated methods as server methods: those the headers answer (`get_constants`) answered
/// here, every C function routed to the runtime host process that owns it; each runtime's methods
/// are those of the table of its library's version, described by that table's OpenRPC document.
public enum GeneratedMethods {
    /// Every runtime's methods, and the schemas their documents share out (`components`), merged:
    /// each document read once.
    public static func serving(_ runtimes: [RuntimeSetup], router: RuntimeRouter) -> (
        methods: [ServerMethod], openRPCComponents: JSONValue
    ) {
        var methods: [ServerMethod] = []
        var schemas = JSONObject()
        for runtime in runtimes {
            let description = (router.table(of: runtime.namespace) ?? runtime.tables[0]).description
            let document = (try? JSONParser.parse(description.openRPC)) ?? .object([:])
            if case .object(let own)? = document["components"]?["schemas"] {
                for (name, schema) in own.pairs { schemas[name] = schema }
            }
            var described: [String: JSONValue] = [:]
            if case .array(let items)? = document["methods"] {
                for item in items { if case .string(let name)? = item["name"] { described[name] = item } }
            }
            for spec in description.methods {
                let documented = ProtocolMembers.describe(
                    described[spec.method] ?? .object(["name": .string(spec.method)]), spec: spec)
                if let answer = spec.answer {
                    methods.append(
                        ServerMethod(name: spec.method, description: documented) { request in
                            try spec.checkShape(of: request.params)
                            return answer
                        })
                    continue
                }
                methods.append(
                    ServerMethod(
                        name: spec.method, description: documented, fileDescriptors: spec.params.filter(\.fd).count
                    ) { call in
                        router.route(call, entry: spec)
                    })
            }
        }
        return (methods, .object(["schemas": .object(schemas)]))
    }
}
