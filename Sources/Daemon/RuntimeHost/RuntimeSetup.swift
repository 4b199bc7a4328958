import BindingRuntime
import Foundation
import RPCServer

/// One runtime as this daemon hosts it: its manifest and table, with the manifest's settings
/// read from the configuration (the library to load, where objects live, what hosts start with).
public struct RuntimeSetup: Sendable {
    public let hosted: HostedRuntime
    /// The library to load, and the one to load instead when it is not installed (the simulated
    /// runtime beside the daemon, unless a library was configured).
    public let library: String
    public let fallbackLibrary: String?
    public let hosting: Hosting
    /// What each of its runtime hosts is started with; the parallel calls also bound blocking
    /// calls across the hosts of clients (`Hosting.perClient`).
    public let hostSettings: HostSettings
    /// The library's version as the manifest's setting says it, when set (else its file says).
    public let librarySaidVersion: String?

    /// Which runtime host process a runtime's objects live in.
    public enum Hosting: Sendable, Equatable {
        /// Each object of this handle type gets a process of its own (one model instance each).
        case perInstance(of: String)
        /// Each client's objects live in a process of that client's: a runtime crash a client
        /// causes takes only its own work.
        case perClient
        /// One process for every client (boards short of memory).
        case shared

        var name: String {
            switch self {
            case .perInstance: "per_instance"
            case .perClient: "per_client"
            case .shared: "shared"
            }
        }
    }

    public var namespace: String { hosted.namespace }
    var manifest: RuntimeManifest { hosted.manifest }

    public init(
        _ hosted: HostedRuntime, library: String, fallbackLibrary: String? = nil, hosting: Hosting,
        hostSettings: HostSettings, librarySaidVersion: String? = nil
    ) {
        self.hosted = hosted
        self.library = library
        self.fallbackLibrary = fallbackLibrary
        self.hosting = hosting
        self.hostSettings = hostSettings
        self.librarySaidVersion = librarySaidVersion
    }

    /// The runtime as `configuration` sets it up; relative directories are taken from the working
    /// directory, and the directories the manifest says to make are made.
    public init(_ hosted: HostedRuntime, configuration: Configuration, executable: String) throws {
        let manifest = hosted.manifest
        let beside = (executable as NSString).deletingLastPathComponent
        let configured = manifest.librarySetting.flatMap(configuration.explicitValue(of:))
        let simulated = manifest.simulatedLibrary.map { beside + "/" + $0 }
        let hosting: Hosting
        switch manifest.hosting {
        case .perInstance(let type): hosting = .perInstance(of: type)
        case .perClient(let toggle): hosting = toggle.flatMap(configuration.value(of:)) == "1" ? .shared : .perClient
        case .oneProcess: hosting = .shared
        }
        var paths: [String: [String]] = [:]
        for (kind, name) in manifest.paths {
            let setting = manifest.settings.first { $0.name == name }
            let directories = (configuration.value(of: name) ?? "").split(separator: ":").map { Self.absolute($0) }
            if setting?.directoryCreated == true {
                for directory in directories {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                }
            }
            paths[kind] = directories
        }
        self.init(
            hosted, library: configured ?? manifest.library,
            fallbackLibrary: configured == nil && simulated.map(FileManager.default.fileExists) == true
                ? simulated : nil,
            hosting: hosting,
            hostSettings: HostSettings(
                parallelCalls: manifest.parallelCallsSetting.flatMap(configuration.value(of:)).flatMap { Int($0) } ?? 1,
                memoryLimit: configuration.runtimeHostMemory ?? HostSettings.defaultMemoryLimit,
                pluginDirectory: manifest.pluginsSetting.map {
                    configuration.value(of: $0).map(Self.absolute) ?? beside
                },
                paths: paths),
            librarySaidVersion: manifest.abiSetting.flatMap(configuration.explicitValue(of:)))
    }

    private static func absolute<S: StringProtocol>(_ path: S) -> String {
        path.hasPrefix("/") ? String(path) : FileManager.default.currentDirectoryPath + "/" + path
    }
}
