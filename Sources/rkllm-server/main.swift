import Foundation
import RuntimeHost
import RPCServer

/// rkllm-server: the daemon. Configuration from the environment and flags, then serve until
/// SIGTERM/SIGINT.
let version = "0.1.0"

func main() -> Int32 {
    if let worker = WorkerMain.arguments(Array(CommandLine.arguments.dropFirst())) {
        return WorkerMain.run(namespace: worker.namespace, library: worker.library, parent: worker.parent, probe: worker.probe)
    }
    let program = (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "rkllm-server"
    let configuration: Configuration
    switch Result(catching: { try Configuration.load(arguments: Array(CommandLine.arguments.dropFirst()),
                                                     environment: ProcessInfo.processInfo.environment) }) {
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
        let router = RuntimeRouter(runtimes: [
            .init(namespace: "rkllm", library: configuration.rkllmRuntimeLibrary, processPerHandle: true),
            .init(namespace: "rknn", library: configuration.rknnRuntimeLibrary, processPerHandle: false),
        ], executable: try executablePath(), runTimeout: configuration.runTimeout, logger: logger)
        let server = try Server(configuration: configuration, logger: logger, version: version,
                                methods: GeneratedMethods.methods(router: router))
        server.openRPCComponents = GeneratedMethods.openRPCComponents
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
