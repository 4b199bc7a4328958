import BindingRuntime
import Foundation

/// Every setting of the daemon: environment variables (`RKLLM_*`) and the same settings as flags;
/// flags win. The runtimes add their own (their manifests'). `Configuration.settings` is the one
/// table both `--help` and parsing read.
public struct Configuration: Sendable {
    public var socketPath = "/tmp/rkllm.sock"
    public var socketMode: mode_t = 0o660
    public var socketGroup: String?
    public var allowedUIDs: Set<uid_t>?
    public var maxMessageBytes = 64 << 20
    public var maxOutputBytes = 64 << 20
    /// Incomplete lines and unwritten replies of all clients together.
    public var maxBufferedInputBytes = 256 << 20
    public var maxBufferedOutputBytes = 256 << 20
    public var maxConnections = 1024
    /// An event-loop iteration's replies to many clients written in one system call (io_uring,
    /// where the kernel has it).
    public var ioUring = true
    public var logLevel = LogLevel.info
    /// Seconds SIGTERM waits for queued replies to flush before closing everything.
    public var shutdownTimeout = 5.0
    /// Seconds a runtime call may make no progress before its host is killed.
    public var runTimeout = 300.0
    /// Seconds a shared model stays loaded after its last client.
    public var keepAlive = 300.0
    /// Generations waiting per model before a "busy" error.
    public var maxQueue = 64
    /// Seconds a generation may wait in the queue; 0 = no limit.
    public var queueTimeout = 0.0
    /// What one client may hold in runtime hosts: handles, descriptors kept open there, bytes.
    public var maxHandlesPerClient = 1024
    public var maxDescriptorsPerClient = 256
    public var maxBytesPerClient = 1 << 30
    /// Runtime host processes at once (model instances, RKNN hosts).
    public var maxRuntimeHosts = 64
    /// Bytes one runtime host may allocate; nil: three quarters of the machine's memory.
    public var runtimeHostMemory: Int?
    /// The HTTP front's address (`127.0.0.1:11435`); nil: no HTTP.
    public var httpAddress: String?
    /// The token HTTP requests must bear (`Authorization: Bearer ...`); nil: none needed.
    public var httpToken: String?
    /// Seconds an HTTP connection may go without a request, and a request's head (then its body)
    /// may take to arrive from its first byte.
    public var httpTimeout = 60.0
    /// HTTP connections at once, apart from the socket's `maxConnections`: TCP clients never take
    /// a Unix socket client's place.
    public var httpMaxConnections = 1024
    /// HTTP connections that have not yet sent a request the front accepted (its token, when one is
    /// set): past it, the oldest of them is closed.
    public var httpMaxUnauthenticated = 64
    /// The runtimes' own settings (their manifests declare them), and the values set, by name.
    public private(set) var runtimeSettings: [RuntimeSetting] = []
    private var runtimeValues: [String: String] = [:]

    public init() {}

    /// A runtime setting's value: as set, else its default.
    public func value(of setting: String) -> String? {
        runtimeValues[setting] ?? runtimeSettings.first { $0.name == setting }?.defaultValue
    }

    /// A runtime setting's value when it was set (not its default).
    public func explicitValue(of setting: String) -> String? { runtimeValues[setting] }

    public struct Setting: Sendable {
        public let environment: String
        public let flag: String
        public let help: String
        let apply: @Sendable (inout Configuration, String) throws -> Void
    }

    public struct UsageError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// The names -32011 errors give the limits the runtime host enforces (`data.limit`): the
    /// settings' own, without dashes.
    public enum LimitName {
        public static let maxHandlesPerClient = "max_handles_per_client"
        public static let maxDescriptorsPerClient = "max_descriptors_per_client"
        public static let maxBytesPerClient = "max_bytes_per_client"
        public static let maxRuntimeHosts = "max_runtime_hosts"
    }

    /// The daemon's settings, then the runtimes' (each once, by flag).
    public static func settings(declared: [RuntimeSetting]) -> [Setting] {
        var seen = Set<String>()
        let runtime = declared.filter { seen.insert($0.name).inserted }.sorted { $0.flag < $1.flag }.map { declared in
            Setting(environment: declared.environment, flag: declared.flag, help: declared.help) {
                if let problem = declared.problem(with: $1) {
                    throw UsageError(description: "\(declared.flag) \(problem)")
                }
                $0.runtimeValues[declared.name] = $1
            }
        }
        return daemonSettings + runtime
    }

    static let daemonSettings: [Setting] = [
        Setting(
            environment: "RKLLM_HTTP", flag: "--http",
            help:
                "serve OpenAI's and Ollama's HTTP APIs on HOST:PORT too, or on 127.0.0.1:PORT for a port alone (off unless set)"
        ) {
            $0.httpAddress = $1.isEmpty ? nil : $1
        },
        Setting(
            environment: "RKLLM_HTTP_TOKEN", flag: "--http-token",
            help: "the bearer token every HTTP request must carry (default: none)"
        ) {
            $0.httpToken = $1.isEmpty ? nil : $1
        },
        Setting(
            environment: "RKLLM_HTTP_TIMEOUT", flag: "--http-timeout",
            help:
                "seconds an HTTP connection may go without a request, and a request's head, then its body, may take to arrive from its first byte (default 60)"
        ) {
            let seconds = try seconds($1, "HTTP timeout")
            guard seconds > 0 else {
                throw UsageError(description: "HTTP timeout '\($1)' is not a positive number of seconds")
            }
            $0.httpTimeout = seconds
        },
        Setting(
            environment: "RKLLM_HTTP_MAX_CONNECTIONS", flag: "--http-max-connections",
            help: "HTTP connections served at once, apart from the socket's --max-connections (default 1024)"
        ) {
            $0.httpMaxConnections = try positive($1, "HTTP max connections")
        },
        Setting(
            environment: "RKLLM_HTTP_MAX_UNAUTHENTICATED", flag: "--http-max-unauthenticated",
            help:
                "HTTP connections without an accepted request yet; past it the oldest is closed (default 64)"
        ) {
            $0.httpMaxUnauthenticated = try positive($1, "HTTP max unauthenticated")
        },
        Setting(environment: "RKLLM_UDS_PATH", flag: "--socket", help: "Unix socket path (default /tmp/rkllm.sock)") {
            $0.socketPath = $1
        },
        Setting(environment: "RKLLM_SOCKET_MODE", flag: "--socket-mode", help: "socket file mode, octal (default 0660)")
        {
            guard let mode = mode_t($1, radix: 8), mode <= 0o777 else {
                throw UsageError(description: "socket mode '\($1)' is not octal 0-777")
            }
            $0.socketMode = mode
        },
        Setting(
            environment: "RKLLM_SOCKET_GROUP", flag: "--socket-group",
            help: "group owning the socket file (default: the daemon's)"
        ) {
            $0.socketGroup = $1.isEmpty ? nil : $1
        },
        Setting(
            environment: "RKLLM_ALLOWED_UIDS", flag: "--allowed-uids",
            help: "comma-separated uids allowed to connect (default: any)"
        ) {
            if $1.isEmpty {
                $0.allowedUIDs = nil
                return
            }
            let uids = try $1.split(separator: ",").map { part -> uid_t in
                guard let uid = uid_t(part.trimmingCharacters(in: .whitespaces)) else {
                    throw UsageError(description: "uid '\(part)' is not a number")
                }
                return uid
            }
            $0.allowedUIDs = Set(uids)
        },
        Setting(
            environment: "RKLLM_MAX_MESSAGE_BYTES", flag: "--max-message-bytes",
            help: "longest request line (default 64 MiB)"
        ) {
            $0.maxMessageBytes = try positive($1, "max message bytes")
        },
        Setting(
            environment: "RKLLM_MAX_OUTPUT_BYTES", flag: "--max-output-bytes",
            help: "replies queued for one client before it is dropped, and the largest reply (default 64 MiB)"
        ) {
            $0.maxOutputBytes = try positive($1, "max output bytes")
        },
        Setting(
            environment: "RKLLM_MAX_BUFFERED_INPUT", flag: "--max-buffered-input",
            help:
                "bytes of incomplete lines of all clients together; past it, the line that grows is dropped (default 256 MiB)"
        ) {
            $0.maxBufferedInputBytes = try positive($1, "max buffered input")
        },
        Setting(
            environment: "RKLLM_MAX_BUFFERED_OUTPUT", flag: "--max-buffered-output",
            help:
                "bytes of unread replies of all clients together; past it, the client with the most is dropped (default 256 MiB)"
        ) {
            $0.maxBufferedOutputBytes = try positive($1, "max buffered output")
        },
        Setting(
            environment: "RKLLM_MAX_CONNECTIONS", flag: "--max-connections",
            help: "connections served at once (default 1024)"
        ) {
            $0.maxConnections = try positive($1, "max connections")
        },
        Setting(
            environment: "RKLLM_IO_URING", flag: "--io-uring",
            help:
                "on|off: write an event-loop iteration's replies to many clients in one io_uring system call (default on)"
        ) {
            switch $1 {
            case "on": $0.ioUring = true
            case "off": $0.ioUring = false
            default: throw UsageError(description: "io_uring '\($1)' is not on or off")
            }
        },
        Setting(environment: "RKLLM_LOG_LEVEL", flag: "--log-level", help: "0=DEBUG 1=INFO 2=WARN 3=ERROR (default 1)")
        {
            guard let n = Int($1), let level = LogLevel(rawValue: n) else {
                throw UsageError(description: "log level '\($1)' is not 0-3")
            }
            $0.logLevel = level
        },
        Setting(
            environment: "RKLLM_SHUTDOWN_TIMEOUT", flag: "--shutdown-timeout",
            help: "seconds to flush replies on SIGTERM (default 5)"
        ) {
            $0.shutdownTimeout = try seconds($1, "shutdown timeout")
        },
        Setting(
            environment: "RKLLM_RUN_TIMEOUT", flag: "--run-timeout",
            help: "seconds a runtime call may stall before its host is killed (default 300)"
        ) {
            $0.runTimeout = try seconds($1, "run timeout")
        },
        Setting(
            environment: "RKLLM_KEEP_ALIVE", flag: "--keep-alive",
            help: "seconds a model stays loaded after its last client (default 300)"
        ) {
            $0.keepAlive = try seconds($1, "keep-alive")
        },
        Setting(
            environment: "RKLLM_MAX_HANDLES_PER_CLIENT", flag: "--max-handles-per-client",
            help: "handles one client may hold (default 1024)"
        ) {
            $0.maxHandlesPerClient = try positive($1, "max handles per client")
        },
        Setting(
            environment: "RKLLM_MAX_DESCRIPTORS_PER_CLIENT", flag: "--max-descriptors-per-client",
            help: "descriptors a client's objects may keep open in runtime hosts (default 256)"
        ) {
            $0.maxDescriptorsPerClient = try positive($1, "max descriptors per client")
        },
        Setting(
            environment: "RKLLM_MAX_BYTES_PER_CLIENT", flag: "--max-bytes-per-client",
            help: "bytes a client's objects may hold in runtime hosts, e.g. tensor memory (default 1 GiB)"
        ) {
            $0.maxBytesPerClient = try positive($1, "max bytes per client")
        },
        Setting(
            environment: "RKLLM_MAX_RUNTIME_HOSTS", flag: "--max-runtime-hosts",
            help: "runtime host processes at once; an idle one makes room (default 64)"
        ) {
            $0.maxRuntimeHosts = try positive($1, "max runtime hosts")
        },
        Setting(
            environment: "RKLLM_RUNTIME_HOST_MEMORY", flag: "--runtime-host-memory",
            help: "bytes one runtime host may allocate (RLIMIT_DATA; default 3/4 of the machine's memory)"
        ) {
            $0.runtimeHostMemory = try positive($1, "runtime host memory")
        },
        Setting(
            environment: "RKLLM_MAX_QUEUE", flag: "--max-queue",
            help: "generations waiting per model before 'busy' (default 64)"
        ) {
            $0.maxQueue = try positive($1, "max queue")
        },
        Setting(
            environment: "RKLLM_QUEUE_TIMEOUT", flag: "--queue-timeout",
            help: "seconds a generation may wait in the queue, 0 = no limit (default 0)"
        ) {
            $0.queueTimeout = try seconds($1, "queue timeout")
        },
    ]

    private static func positive(_ text: String, _ what: String) throws -> Int {
        do {
            return try CheckedNumbers.integer(text: text, what, in: 1...Int.max)
        } catch {
            throw UsageError(description: "\(what) '\(text)' is not a positive integer")
        }
    }

    private static func seconds(_ text: String, _ what: String) throws -> Double {
        do {
            return try CheckedNumbers.seconds(text: text, what)
        } catch {
            throw UsageError(description: "\(what) '\(text)' is not \(error.expected)")
        }
    }

    /// What the command line asks for besides serving.
    public enum Action: Equatable { case serve, help, version }

    /// The environment first, then the flags (`--flag value` or `--flag=value`).
    public static func load(arguments: [String], environment: [String: String], runtimeSettings: [RuntimeSetting] = [])
        throws -> (Configuration, Action)
    {
        var config = Configuration()
        config.runtimeSettings = runtimeSettings
        let table = settings(declared: runtimeSettings)
        for setting in table {
            if let value = environment[setting.environment] { try setting.apply(&config, value) }
        }
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            switch argument {
            case "-h", "--help": return (config, .help)
            case "--version": return (config, .version)
            default: break
            }
            let (flag, inline) = argument.split(separator: "=", maxSplits: 1).map(String.init).splitFirst()
            guard let setting = table.first(where: { $0.flag == flag }) else {
                throw UsageError(description: "unknown option '\(argument)' (see --help)")
            }
            var value = inline
            if value == nil {
                guard i < arguments.count else { throw UsageError(description: "\(flag) needs a value") }
                value = arguments[i]
                i += 1
            }
            try setting.apply(&config, value!)
        }
        return (config, .serve)
    }

    public static func usage(program: String, runtimeSettings: [RuntimeSetting] = []) -> String {
        let table = settings(declared: runtimeSettings)
        var text =
            "usage: \(program) [options]\n\nServes the Rockchip NPU runtimes as JSON-RPC 2.0 over a Unix socket.\n\n"
        let width = table.map { $0.flag.count + 8 }.max() ?? 0
        for s in table {
            let left = "  \(s.flag) VALUE"
            text += left.padding(toLength: width + 2, withPad: " ", startingAt: 0) + "\(s.help) [\(s.environment)]\n"
        }
        text += "  --help".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "this text\n"
        text += "  --version".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "the version\n"
        return text
    }
}

extension Array where Element == String {
    fileprivate func splitFirst() -> (String, String?) { (self[0], count > 1 ? self[1] : nil) }
}
