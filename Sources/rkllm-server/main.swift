import Foundation
import RPCServer
import RuntimeHost

/// rkllm-server: the daemon. Configuration from the environment and flags, then serve until
/// SIGTERM/SIGINT.
let version = "0.1.0"

func main() -> Int32 {
    if let worker = WorkerMain.arguments(Array(CommandLine.arguments.dropFirst())) {
        return WorkerMain.run(
            namespace: worker.namespace, library: worker.library, parent: worker.parent, probe: worker.probe,
            settings: worker.settings)
    }
    let program = (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "rkllm-server"
    let configuration: Configuration
    switch Result(catching: {
        try Configuration.load(
            arguments: Array(CommandLine.arguments.dropFirst()),
            environment: ProcessInfo.processInfo.environment)
    }) {
    case .success((let c, .serve)): configuration = c
    case .success((_, .help)):
        print(Configuration.usage(program: program), terminator: "")
        return 0
    case .success((_, .version)):
        print("rkllm-server \(version)")
        return 0
    case .failure(let error):
        Logger(level: .error).error("\(error)")
        return 2
    }
    Server.prepareProcess()
    let logger = Logger(level: configuration.logLevel)
    do {
        let executable = try executablePath()
        try sharePathsWithRuntimeHosts(configuration)
        let router = RuntimeRouter(
            runtimes: [
                // Each model instance in a process of its own (sharing and NPU domains: the annotations).
                .init(
                    namespace: "rkllm", library: configuration.rkllmRuntimeLibrary ?? "librkllmrt.so",
                    fallbackLibrary: simulated(
                        "librkllmrt_sim.so", beside: executable, unless: configuration.rkllmRuntimeLibrary),
                    hosting: .perObject),
                // Contexts belong to their client: its own process, unless memory is short.
                .init(
                    namespace: "rknn", library: configuration.rknnRuntimeLibrary ?? "librknnrt.so",
                    fallbackLibrary: simulated(
                        "librknnrt_sim.so", beside: executable, unless: configuration.rknnRuntimeLibrary),
                    hosting: configuration.rknnSharedHost ? .shared : .perClient),
            ], executable: executable,
            limits: .init(
                runTimeout: configuration.runTimeout, keepAlive: configuration.keepAlive,
                maxQueue: configuration.maxQueue, queueTimeout: configuration.queueTimeout,
                quota: Holdings(
                    handles: configuration.maxHandlesPerClient,
                    descriptors: configuration.maxDescriptorsPerClient,
                    bytes: configuration.maxBytesPerClient),
                maxHosts: configuration.maxRuntimeHosts, host: hostSettings(configuration, executable: executable)),
            logger: logger)
        let server = try Server(
            configuration: configuration, logger: logger, version: version,
            methods: GeneratedMethods.methods(router: router) + router.serverMethods())
        server.openRPCComponents = GeneratedMethods.openRPCComponents
        router.attach(to: server)
        return try server.run()
    } catch {
        logger.error("cannot start: \(error)")
        return 1
    }
}

/// The simulated runtime built beside the daemon, used when no library was configured and the
/// vendor's is not installed.
func simulated(_ name: String, beside executable: String, unless configured: String?) -> String? {
    let path = (executable as NSString).deletingLastPathComponent + "/" + name
    return configured == nil && FileManager.default.fileExists(atPath: path) ? path : nil
}

/// The directories clients' paths may name (made absolute), handed to the runtime hosts through
/// their environment; the cache directory is created.
func sharePathsWithRuntimeHosts(_ configuration: Configuration) throws {
    let cwd = FileManager.default.currentDirectoryPath
    let absolute = { (path: String) in path.hasPrefix("/") ? path : cwd + "/" + path }
    try FileManager.default.createDirectory(
        atPath: absolute(configuration.cacheDirectory), withIntermediateDirectories: true)
    PathPolicy.publish([
        "model": configuration.modelDirectories.map(absolute), "cache": [absolute(configuration.cacheDirectory)],
    ])
}

/// What each runtime host is started with (HostSettings): the NPU's cores, its memory limit, and
/// the plugin directory (by default the daemon's own).
func hostSettings(_ configuration: Configuration, executable: String) -> HostSettings {
    let cwd = FileManager.default.currentDirectoryPath
    let plugins = configuration.pluginDirectory.map { $0.hasPrefix("/") ? $0 : cwd + "/" + $0 }
    return HostSettings(
        npuCores: configuration.npuCores,
        memoryLimit: configuration.runtimeHostMemory ?? HostSettings.defaultMemoryLimit,
        pluginDirectory: plugins ?? (executable as NSString).deletingLastPathComponent)
}

/// This executable, for starting runtime host processes.
func executablePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw SystemError("readlink /proc/self/exe") }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

exit(main())
