import BindingRuntime
import Foundation
import HTTPFront
import RKLLMDescription_1_2_3
import RKLLMDescription_1_3_0
import RKNNDescription
import RPCServer
import RuntimeHost
import Wire

/// rkllm-server: the daemon. Configuration from the environment and flags, then serve until
/// SIGTERM/SIGINT.
let version = "0.1.0"

/// The runtimes this daemon hosts: each header set's description with the runtime host executable
/// built from its bindings. A runtime of several SDK versions has a table per version (the newest
/// first: taken for a library whose version nobody says); each library is served with its own.
let tables = [
    RuntimeTable(RKLLMDescription_1_3_0.RuntimeDescriptions.rkllm, host: "rkllm-host-1.3.0"),
    RuntimeTable(RKLLMDescription_1_2_3.RuntimeDescriptions.rkllm, host: "rkllm-host-1.2.3"),
    RuntimeTable(RKNNDescription.RuntimeDescriptions.rknn, host: "rknn-host"),
]

func main() -> Int32 {
    let program = (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "rkllm-server"
    let runtimeSettings = RuntimeTable.settings(of: tables)
    let configuration: Configuration
    switch Result(catching: {
        try Configuration.load(
            arguments: Array(CommandLine.arguments.dropFirst()),
            environment: ProcessInfo.processInfo.environment, runtimeSettings: runtimeSettings)
    }) {
    case .success((let c, .serve)): configuration = c
    case .success((_, .help)):
        print(Configuration.usage(program: program, runtimeSettings: runtimeSettings), terminator: "")
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
        let setups = try RuntimeSetup.setups(tables, configuration: configuration, executable: try executablePath())
        let router = RuntimeRouter(
            runtimes: setups,
            limits: .init(
                runTimeout: configuration.runTimeout, keepAlive: configuration.keepAlive,
                maxQueue: configuration.maxQueue, queueTimeout: configuration.queueTimeout,
                quota: Holdings(
                    handles: configuration.maxHandlesPerClient,
                    descriptors: configuration.maxDescriptorsPerClient,
                    bytes: configuration.maxBytesPerClient),
                maxHosts: configuration.maxRuntimeHosts),
            logger: logger)
        let generated = GeneratedMethods.serving(setups, router: router)
        let server = try Server(
            configuration: configuration, logger: logger, version: version,
            methods: generated.methods + router.serverMethods())
        server.openRPCComponents = generated.openRPCComponents
        router.attach(to: server)
        if let address = configuration.httpAddress {
            try HTTPFront(server: server, address: address, token: configuration.httpToken, routes: httpRoutes(router))
                .start()
        }
        return try server.run()
    } catch {
        logger.error("cannot start: \(error)")
        return 1
    }
}

/// OpenAI's and Ollama's dialects over the first runtime that generates text (its library's table).
func httpRoutes(_ router: RuntimeRouter) -> [HTTPRoute] {
    for table in tables {
        guard let served = router.table(of: table.namespace), let profile = served.manifest.generation else { continue }
        let generator = TextGenerator(
            namespace: served.namespace, abi: served.manifest.abiVersion, profile: profile,
            destroyMethods: served.manifest.destroyMethods)
        return OpenAIDialect.routes(generator) + OllamaDialect.routes(generator, version: version)
    }
    return []
}

/// This executable: the runtime host executables are beside it.
func executablePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw SystemError("readlink /proc/self/exe") }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

exit(main())
