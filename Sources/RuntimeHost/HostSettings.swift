/// What a runtime host takes from the daemon's settings, on its command line:
/// `--worker NAMESPACE --library PATH --parent PID [--probe] [--npu-cores N] [--memory-limit BYTES]
/// [--plugin-dir PATH]`.
public struct HostSettings: Sendable, Equatable {
    /// Blocking calls the host runs at once (the NPU's cores).
    public var npuCores: Int
    /// Bytes the host may allocate (MemoryLimit); nil: no limit.
    public var memoryLimit: Int?
    /// Where server-side plugins are (PluginLibraries); nil: none.
    public var pluginDirectory: String?

    public init(npuCores: Int, memoryLimit: Int?, pluginDirectory: String?) {
        self.npuCores = npuCores
        self.memoryLimit = memoryLimit
        self.pluginDirectory = pluginDirectory
    }

    /// Three quarters of the machine's memory: a limit that stops a runaway host before the
    /// machine runs out.
    public static var defaultMemoryLimit: Int { MemoryLimit.defaultBytes }

    var arguments: [String] {
        ["--npu-cores", String(npuCores)] + (memoryLimit.map { ["--memory-limit", String($0)] } ?? [])
            + (pluginDirectory.map { ["--plugin-dir", $0] } ?? [])
    }

    /// The settings among a host's arguments (flag and value pairs); nil when one is malformed.
    init?(arguments: ArraySlice<String>) {
        self.init(npuCores: 1, memoryLimit: nil, pluginDirectory: nil)
        var rest = arguments
        while let flag = rest.popFirst() {
            if flag == "--probe" { continue }
            guard let value = rest.popFirst() else { return nil }
            switch flag {
            case "--npu-cores":
                guard let n = Int(value), n > 0 else { return nil }
                npuCores = n
            case "--memory-limit":
                guard let n = Int(value), n > 0 else { return nil }
                memoryLimit = n
            case "--plugin-dir": pluginDirectory = value
            default: return nil
            }
        }
    }
}
