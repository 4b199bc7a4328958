/// What a runtime host takes from the daemon's settings, on its command line:
/// `--runtime-host NAMESPACE --library PATH --parent PID [--probe|--probe-matched] [--parallel-calls N]
/// [--memory-limit BYTES] [--plugin-dir PATH] [--paths KIND=DIR:DIR]... [--extensions KIND=.EXT:.EXT]...`.
public struct HostSettings: Sendable, Equatable {
    /// Blocking calls the host runs at once (the device's cores).
    public var parallelCalls: Int
    /// Bytes the host may allocate (MemoryLimit); nil: no limit.
    public var memoryLimit: Int?
    /// Where server-side plugins are (PluginLibraries); nil: none.
    public var pluginDirectory: String?
    /// Path kind -> the directories paths of that kind must be in (PathPolicy).
    public var paths: [String: [String]]
    /// Path kind -> the extensions a bare name may leave out (PathPolicy).
    public var extensions: [String: [String]]

    public init(
        parallelCalls: Int, memoryLimit: Int?, pluginDirectory: String?, paths: [String: [String]] = [:],
        extensions: [String: [String]] = [:]
    ) {
        self.parallelCalls = parallelCalls
        self.memoryLimit = memoryLimit
        self.pluginDirectory = pluginDirectory
        self.paths = paths
        self.extensions = extensions
    }

    /// Three quarters of the machine's memory: a limit that stops a runaway host before the
    /// machine runs out.
    public static var defaultMemoryLimit: Int { MemoryLimit.defaultBytes }

    var arguments: [String] {
        var arguments = ["--parallel-calls", String(parallelCalls)]
        if let memoryLimit { arguments += ["--memory-limit", String(memoryLimit)] }
        if let pluginDirectory { arguments += ["--plugin-dir", pluginDirectory] }
        for (kind, directories) in paths.sorted(by: { $0.key < $1.key }) {
            arguments += ["--paths", kind + "=" + directories.joined(separator: ":")]
        }
        for (kind, extensions) in extensions.sorted(by: { $0.key < $1.key }) {
            arguments += ["--extensions", kind + "=" + extensions.joined(separator: ":")]
        }
        return arguments
    }

    /// The settings among a host's arguments (flag and value pairs); nil when one is malformed.
    init?(arguments: ArraySlice<String>) {
        self.init(parallelCalls: 1, memoryLimit: nil, pluginDirectory: nil)
        var rest = arguments
        while let flag = rest.popFirst() {
            if flag == HostMain.Mode.probe.rawValue || flag == HostMain.Mode.probeMatched.rawValue { continue }
            guard let value = rest.popFirst() else { return nil }
            switch flag {
            case "--parallel-calls":
                guard let n = Int(value), n > 0 else { return nil }
                parallelCalls = n
            case "--memory-limit":
                guard let n = Int(value), n > 0 else { return nil }
                memoryLimit = n
            case "--plugin-dir": pluginDirectory = value
            case "--paths", "--extensions":
                guard let equals = value.firstIndex(of: "=") else { return nil }
                let list = value[value.index(after: equals)...].split(separator: ":").map(String.init)
                if flag == "--paths" {
                    paths[String(value[..<equals])] = list
                } else {
                    extensions[String(value[..<equals])] = list
                }
            default: return nil
            }
        }
    }
}
