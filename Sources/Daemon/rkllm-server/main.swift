import BindingRuntime
import Foundation
import RKLLMBindings_1_2_3
import RKNNBindings
import RPCServer
import RuntimeHost

/// rkllm-server: the daemon. Configuration from the environment and flags, then serve until
/// SIGTERM/SIGINT.
let version = "0.1.0"

/// The runtimes this daemon hosts: each manifest with the generated table it was made with.
let runtimes = [RKLLMBindings_1_2_3.HostedRuntimes.rkllm, RKNNBindings.HostedRuntimes.rknn]

func main() -> Int32 {
    if let status = HostMain.runIfRuntimeHost(Array(CommandLine.arguments.dropFirst()), runtimes: runtimes) {
        return status
    }
    let program = (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "rkllm-server"
    let runtimeSettings = runtimes.flatMap(\.manifest.settings)
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
        let executable = try executablePath()
        let setups = try runtimes.map {
            try RuntimeSetup($0, configuration: configuration, executable: executable)
        }
        let router = RuntimeRouter(
            runtimes: setups, executable: executable,
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
        return try server.run()
    } catch {
        logger.error("cannot start: \(error)")
        return 1
    }
}

/// This executable, for starting runtime host processes.
func executablePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw SystemError("readlink /proc/self/exe") }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

exit(main())
