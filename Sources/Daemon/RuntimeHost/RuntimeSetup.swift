import BindingRuntime
import Foundation
import RPCServer

/// A runtime as one header set describes it, and the runtime host executable built with that
/// set's bindings: what the daemon needs to serve a library of that version.
public struct RuntimeTable: Sendable {
    public let description: RuntimeDescription
    /// The executable's path, or its name beside the daemon's.
    public let host: String

    public init(_ description: RuntimeDescription, host: String) {
        self.description = description
        self.host = host
    }

    public var namespace: String { description.namespace }
    public var manifest: RuntimeManifest { description.manifest }
    /// The header set's SDK version ("" for a runtime of one version).
    var version: String { manifest.abiVersion ?? "" }

    /// The settings of every table, each once (tables of one runtime declare the same).
    public static func settings(of tables: [RuntimeTable]) -> [RuntimeSetting] {
        var seen = Set<String>()
        return tables.flatMap(\.manifest.settings).filter { seen.insert($0.name).inserted }
    }
}

/// One runtime as this daemon hosts it: its tables (one per SDK version it was built for; the probe
/// picks the one of the library's version) with the manifest's settings read from the
/// configuration (the library to load, where objects live, what hosts start with).
public struct RuntimeSetup: Sendable {
    /// The default first (taken for a library whose version nobody says).
    public let tables: [RuntimeTable]
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

    public var namespace: String { tables[0].namespace }
    /// What the tables share: the library, settings, hosting, paths (the first's).
    var manifest: RuntimeManifest { tables[0].manifest }

    public init(
        _ tables: [RuntimeTable], library: String, fallbackLibrary: String? = nil, hosting: Hosting,
        hostSettings: HostSettings, librarySaidVersion: String? = nil
    ) {
        precondition(!tables.isEmpty && tables.allSatisfy { $0.namespace == tables[0].namespace })
        self.tables = tables
        self.library = library
        self.fallbackLibrary = fallbackLibrary
        self.hosting = hosting
        self.hostSettings = hostSettings
        self.librarySaidVersion = librarySaidVersion
    }

    /// Each runtime of `tables` (grouped by namespace, in their order) as `configuration` sets it up.
    public static func setups(_ tables: [RuntimeTable], configuration: Configuration, executable: String) throws
        -> [RuntimeSetup]
    {
        var namespaces: [String] = []
        for table in tables where !namespaces.contains(table.namespace) { namespaces.append(table.namespace) }
        return try namespaces.map { namespace in
            try RuntimeSetup(
                tables.filter { $0.namespace == namespace }, configuration: configuration, executable: executable)
        }
    }

    /// The runtime as `configuration` sets it up; host executables named without a path are
    /// beside `executable`; relative directories are taken from the working directory, and the
    /// directories the manifest says to make are made. The simulated library loaded when none is
    /// installed is the first table's that was built.
    public init(_ tables: [RuntimeTable], configuration: Configuration, executable: String) throws {
        let manifest = tables[0].manifest
        let beside = (executable as NSString).deletingLastPathComponent
        let configured = manifest.librarySetting.flatMap(configuration.explicitValue(of:))
        let simulated = tables.lazy.compactMap { $0.manifest.simulatedLibrary.map { beside + "/" + $0 } }
            .first(where: FileManager.default.fileExists)
        let tables = tables.map {
            RuntimeTable($0.description, host: $0.host.hasPrefix("/") ? $0.host : beside + "/" + $0.host)
        }
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
            tables, library: configured ?? manifest.library, fallbackLibrary: configured == nil ? simulated : nil,
            hosting: hosting,
            hostSettings: HostSettings(
                parallelCalls: manifest.parallelCallsSetting.flatMap(configuration.value(of:)).flatMap { Int($0) } ?? 1,
                memoryLimit: configuration.runtimeHostMemory ?? HostSettings.defaultMemoryLimit,
                pluginDirectory: manifest.pluginsSetting.map {
                    configuration.value(of: $0).map(Self.absolute) ?? beside
                },
                paths: paths, extensions: manifest.extensions),
            librarySaidVersion: manifest.abiSetting.flatMap(configuration.explicitValue(of:)))
    }

    private static func absolute<S: StringProtocol>(_ path: S) -> String {
        path.hasPrefix("/") ? String(path) : FileManager.default.currentDirectoryPath + "/" + path
    }
}
