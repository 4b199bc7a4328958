/// A runtime the annotations declare, by its methods' namespace: what the host needs to load it
/// and place its objects, and which of its functions it calls on its own.
public struct RuntimeAnnotation: Codable, Sendable, Equatable {
    /// The library to load (`librkllmrt.so`) and the one built beside the daemon to load when it is
    /// not installed.
    public var library: String
    public var simulatedLibrary: String?
    /// The setting naming another library.
    public var librarySetting: String?
    /// A handle type (each of its objects in a process of its own), `client` (each client's
    /// objects in a process of that client's) or `runtime` (one process for all).
    public var processPer: String
    /// For `client`: the toggle setting that makes it one process for all.
    public var oneProcessWhen: String?
    /// Path kind -> the setting listing its directories.
    public var paths: [String: String]?
    /// Path kind -> the file extensions a client may leave out: a bare name (`demo`) names the file
    /// of that name with the first of them found in the kind's directories (`demo.rkllm`).
    public var extensions: [String: [String]]?
    /// The setting holding how many blocking calls run at once.
    public var parallelCalls: String?
    /// The setting naming the directory of server-side plugins.
    public var plugins: String?
    /// The text that precedes the library's version in its file (`rkllm-runtime version: `), and
    /// the setting that says the version when the file does not.
    public var versionMarker: String?
    public var abiSetting: String?
    /// How it generates text from prompts, when it does.
    public var generation: GenerationAnnotation?

    enum CodingKeys: String, CodingKey {
        case library, paths, plugins, extensions, generation
        case simulatedLibrary = "simulated_library"
        case librarySetting = "library_setting"
        case processPer = "process_per"
        case oneProcessWhen = "one_process_when"
        case parallelCalls = "parallel_calls"
        case versionMarker = "version_marker"
        case abiSetting = "abi_setting"
    }
}

/// A runtime setting: an environment variable and a flag, of a kind, with a default.
public struct SettingAnnotation: Codable, Sendable, Equatable {
    public var environment: String
    public var flag: String
    /// `count`, `toggle`, `file`, `directory` or `directories`.
    public var kind: String
    public var `default`: String?
    /// A directory made at start when missing.
    public var create: Bool?
    public var help: String
}
