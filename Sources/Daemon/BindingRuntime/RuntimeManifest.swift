/// One runtime as the annotations declare it, generated beside the dispatch table: which library
/// to load, which processes its objects live in, which functions the host calls on its own, and
/// the settings that configure it. The host reads this and knows no runtime by name.
public struct RuntimeManifest: Sendable, Equatable {
    /// The methods' namespace (`rkllm` for `rkllm.run`).
    public let namespace: String
    /// The library to load, and the one built beside the daemon to load instead when it is not
    /// installed (a simulated runtime), if any.
    public let library: String
    public let simulatedLibrary: String?
    /// The setting naming another library to load instead (then no fallback is tried).
    public let librarySetting: String?
    public let hosting: Hosting
    /// Path kind (`model`) -> the setting listing the directories paths of that kind must be in.
    public let paths: [String: String]
    /// Path kind -> the extensions of its files, which a client naming one may leave out.
    public let extensions: [String: [String]]
    /// The setting holding how many blocking calls run at once (the device's cores).
    public let parallelCallsSetting: String?
    /// The setting naming the directory of server-side plugins (default: beside the daemon).
    public let pluginsSetting: String?
    /// The SDK version of the headers the table was made from; a library of another major.minor
    /// speaks another ABI and is never called with this table.
    public let abiVersion: String?
    /// The text that precedes the library's version in its file, and the setting that says the
    /// version when the file does not.
    public let versionMarker: String?
    public let abiSetting: String?
    /// Handle type -> the method that stops the stream running on it (for a client that cancels
    /// or leaves).
    public let abortMethods: [String: String]
    /// Creating method -> the method that destroys what it created (for a client that leaves, a
    /// shared object's keep-alive ending).
    public let destroyMethods: [String: String]
    /// The settings the fields above name.
    public let settings: [RuntimeSetting]
    /// How it generates text from prompts, when it does.
    public let generation: GenerationProfile?

    /// Which runtime host process an object lives in.
    public enum Hosting: Sendable, Equatable {
        /// Each object of this handle type in a process of its own (one model instance each).
        case perInstance(of: String)
        /// Each client's objects in a process of that client's (a crash takes only its own
        /// work); one process for every client when the switch setting is on.
        case perClient(oneProcessWhen: String?)
        /// One process for every client.
        case oneProcess
    }

    public init(
        namespace: String, library: String, simulatedLibrary: String?, librarySetting: String?, hosting: Hosting,
        paths: [String: String], extensions: [String: [String]] = [:], parallelCallsSetting: String?,
        pluginsSetting: String?, abiVersion: String?, versionMarker: String?, abiSetting: String?,
        abortMethods: [String: String], destroyMethods: [String: String],
        settings: [RuntimeSetting], generation: GenerationProfile? = nil
    ) {
        self.namespace = namespace
        self.library = library
        self.simulatedLibrary = simulatedLibrary
        self.librarySetting = librarySetting
        self.hosting = hosting
        self.paths = paths
        self.extensions = extensions
        self.parallelCallsSetting = parallelCallsSetting
        self.pluginsSetting = pluginsSetting
        self.abiVersion = abiVersion
        self.versionMarker = versionMarker
        self.abiSetting = abiSetting
        self.abortMethods = abortMethods
        self.destroyMethods = destroyMethods
        self.settings = settings
        self.generation = generation
    }
}

/// A setting of a runtime: an environment variable and the same as a flag, with a default.
public struct RuntimeSetting: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A positive integer.
        case count
        /// `0` or `1`.
        case toggle
        /// A file or library name.
        case file
        /// A directory; `directoryCreated` ones are made at start.
        case directory
        /// `:`-separated directories.
        case directories
        /// A version: `1.2` or `1.2.3`.
        case version
    }

    public let name: String
    public let environment: String
    public let flag: String
    public let kind: Kind
    public let defaultValue: String?
    public let directoryCreated: Bool
    public let help: String

    public init(
        name: String, environment: String, flag: String, kind: Kind, defaultValue: String?,
        directoryCreated: Bool = false, help: String
    ) {
        self.name = name
        self.environment = environment
        self.flag = flag
        self.kind = kind
        self.defaultValue = defaultValue
        self.directoryCreated = directoryCreated
        self.help = help
    }

    /// Why `value` is not one of this kind, or nil when it is.
    public func problem(with value: String) -> String? {
        switch kind {
        case .count: return Int(value).map { $0 > 0 } == true ? nil : "'\(value)' is not a positive integer"
        case .toggle: return value == "0" || value == "1" ? nil : "must be 0 or 1, not '\(value)'"
        case .file, .directory, .directories: return value.isEmpty ? "is empty" : nil
        case .version:
            let parts = value.split(separator: ".", omittingEmptySubsequences: false)
            return (2...3).contains(parts.count) && parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) })
                ? nil : "'\(value)' is not a version like 1.2.3"
        }
    }
}
