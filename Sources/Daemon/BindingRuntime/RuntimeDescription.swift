/// A runtime as one header set describes it: its manifest, the specs of its methods (constants
/// included) and the OpenRPC document of them. The daemon serves a runtime from its description
/// alone (it imports no C header), so it can hold the descriptions of several SDK versions of one
/// runtime and serve the one its library speaks.
public struct RuntimeDescription: Sendable {
    public let manifest: RuntimeManifest
    public let methods: [MethodSpec]
    /// `{"methods": [...], "components": {...}}` as generated with the table.
    public let openRPC: String

    /// `methods`: a header set's methods; those of the manifest's namespace are kept.
    public init(_ manifest: RuntimeManifest, methods: [MethodSpec], openRPC: String) {
        self.manifest = manifest
        self.methods = methods.filter { $0.method.hasPrefix(manifest.namespace + ".") }
        self.openRPC = openRPC
    }

    public var namespace: String { manifest.namespace }
}

/// A runtime as its runtime host process runs it: the description and the generated table's
/// entries that call the library.
public struct HostedRuntime: Sendable {
    public let description: RuntimeDescription
    /// The entries of the description's methods that call a C function.
    public let entries: [MethodEntry]

    public init(_ description: RuntimeDescription, table: [MethodEntry]) {
        let methods = Set(description.methods.map(\.method))
        self.description = description
        self.entries = table.filter { methods.contains($0.method) }
    }

    public var namespace: String { description.namespace }
    public var manifest: RuntimeManifest { description.manifest }
}
