import BindingRuntime
import CLinux
import Foundation
import RPCServer
import Wire
import XCTest

/// Products of the package live beside the test bundle.
enum Built {
    static let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static func path(_ name: String) -> String { directory.appending(path: name).path }
    static var server: String { path("rkllm-server") }
    static var faultRuntime: String { path("libfaultrt.so") }
    /// The simulated RKLLM runtime the RKLLM tests run on (`TestABI`).
    static var simulatedRuntime: String { path(TestABI.is13 ? "librkllmrt_sim-1.3.so" : "librkllmrt_sim.so") }
    static var modelTool: String { path("sim-model") }
    /// Built with a sanitizer (as the daemon beside the tests is): its allocator keeps what is
    /// freed for a while (the quarantine), so resident memory says nothing of what the daemon holds.
    static let sanitized = ["__asan_init", "__tsan_init"].contains { (name: String) in
        dlsym(dlopen(nil, RTLD_NOW), name) != nil
    }
    /// The repository's models/ (models/demo.rkllm).
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "models").path
}

/// The RKLLM ABI the RKLLM tests run on: 1.2.3's, or 1.3.0's when `RKLLM_TEST_ABI=1.3` (the test
/// script runs them on both), and what differs between the two for a client.
enum TestABI {
    static let is13 = ProcessInfo.processInfo.environment["RKLLM_TEST_ABI"] == "1.3"
    static var version: JSONValue { is13 ? "1.3.0" : "1.2.3" }
    /// `rkllm.is_running`'s answer while the model runs a task, and while it does not: 1.3.0
    /// flipped the meaning.
    static var running: JSONValue { ["return": is13 ? 1 : 0] }
    static var idle: JSONValue { ["return": is13 ? 0 : 1] }

    /// A multimodal input of `count` images of `tokens` embedded tokens each: 1.2.3's flat fields,
    /// or 1.3.0's `image` member.
    static func images(prompt: String, embed: JSONValue, tokens: JSONValue, count: JSONValue, size: Int64? = nil)
        -> JSONValue
    {
        var image: JSONObject = ["image_embed": embed, "n_image_tokens": tokens, "n_image": count]
        if let size { (image["image_width"], image["image_height"]) = (.int(size), .int(size)) }
        guard is13 else {
            var flat = image
            flat["prompt"] = .string(prompt)
            return .object(flat)
        }
        return ["prompt": .string(prompt), "image": .object(image)]
    }
}

/// The values of a base64 result (hidden states, tensors) as `T`s.
func base64Values<T>(_ value: JSONValue?, as type: T.Type) throws -> [T] {
    guard case .string(let text)? = value, let data = Data(base64Encoded: text) else {
        throw Failure("not base64: \(String(describing: value))")
    }
    return data.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
}

/// Runtime host processes (`--runtime-host`) whose command line has every one of `arguments`.
func runtimeHostPIDs(with arguments: [String]) throws -> [Int32] {
    try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return args.contains("--runtime-host") && arguments.allSatisfy(args.contains)
    }
}

/// The real `rkllm-server` binary, started for one test on a socket of its own.
final class Daemon {
    let socket: String
    let process = Process()
    let logURL: URL
    /// A directory of this daemon's own: `models/` (first of the model dirs), `cache/`, `domains/`.
    let directory: String
    private static let counter = NSLock()
    nonisolated(unsafe) private static var started = 0

    /// `socket`: an existing path to reuse (nil: a fresh one).
    init(
        arguments: [String] = [], environment: [String: String] = [:], socket: String? = nil, waitForSocket: Bool = true
    ) throws {
        let n = Self.counter.withLock { () -> Int in
            Self.started += 1
            return Self.started
        }
        self.socket = socket ?? "/tmp/rkllm-test-\(getpid())-\(n).sock"
        if socket == nil { unlink(self.socket) }
        logURL = URL(fileURLWithPath: "/tmp/rkllm-test-\(getpid())-\(n).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: Built.server)
        process.arguments = ["--socket", self.socket, "--log-level", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        // Under a sanitizer, a runtime's crash must still be a signal the daemon can name.
        for name in ["ASAN_OPTIONS", "TSAN_OPTIONS"] {
            env[name] = (env[name].map { $0 + ":" } ?? "") + "handle_segv=0:handle_abort=0"
        }
        env["RKLLM_RUNTIME_LIB"] = "librkllmrt-absent.so"
        env["RKNN_RUNTIME_LIB"] = "librknnrt-absent.so"
        // Files of this daemon only: models a test makes, prompt caches, the simulated NPU's domains.
        directory = "/tmp/rkllm-test-\(getpid())-\(n).d"
        for sub in ["models", "cache", "domains"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        env["RKLLM_MODEL_DIRS"] = "\(directory)/models:\(Built.models)"
        env["RKLLM_CACHE_DIR"] = "\(directory)/cache"
        env["RKLLM_SIM_DOMAIN_DIR"] = "\(directory)/domains"
        env["RKLLM_KEEP_ALIVE"] = "0"
        for (k, v) in environment { env[k] = v.isEmpty ? nil : v }  // "" unsets
        process.environment = env
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
        if waitForSocket { try waitUntilServing() }
    }

    func waitUntilServing(timeout: Double = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let client = try? Client(socket), (try? client.call("server.ping")) == "pong" {
                // Not where a test limits the daemon's output: the document would count against it.
                if !(process.arguments ?? []).contains("--max-output-bytes") {
                    Documented.shared.register(socket, document: try client.call("rpc.discover"))
                }
                return
            }
            guard process.isRunning else { throw Failure("the daemon exited: \(log)") }
            usleep(20_000)
        }
        throw Failure("the daemon did not serve within \(timeout) s: \(log)")
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// SIGTERM, then the exit status.
    @discardableResult
    func terminate(timeout: Double = 60) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        return waitForExit(timeout: timeout)
    }

    /// SIGTERM must end it with status 0 (under ASan: no leak either); the log tail explains a failure.
    func assertStopsCleanly(file: StaticString = #filePath, line: UInt = #line) {
        let status = terminate()
        XCTAssertEqual(status, 0, "exit status \(status); log:\n\(log.suffix(4000))", file: file, line: line)
    }

    func waitForExit(timeout: Double = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// The daemon's resident memory in KiB.
    var residentKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    deinit {
        terminate()
        try? FileManager.default.removeItem(at: logURL)
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A blocking JSON-RPC client over a Unix socket, one JSON text per line.
final class Client {
    let fd: Int32
    let socket: String
    private var buffer: [UInt8] = []
    /// Requests sent and not answered yet, by id: each answer is checked against the document.
    private var unanswered: [String: (method: String, params: JSONValue?)] = [:]
    /// Descriptors that came with what was read (SCM_RIGHTS), oldest first.
    var receivedFDs: [Int32] = []
    private var nextID: Int64 = 1

    init(_ path: String) throws {
        fd = try UnixSocket.connect(path)
        socket = path
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        receivedFDs.forEach { close($0) }
    }

    func send(_ text: String) throws {
        remember(text)
        try send(Array(text.utf8))
    }

    /// The requests in lines about to be sent, for checking their answers.
    private func remember(_ text: String) {
        for line in text.split(separator: "\n") {
            guard let message = try? JSONParser.parse(String(line)) else { continue }
            let requests: [JSONValue] = if case .array(let batch) = message { batch } else { [message] }
            for request in requests {
                guard case .string(let method)? = request["method"], let id = request["id"] else { continue }
                unanswered[id.jsonText] = (method, request["params"])
            }
        }
    }

    /// Fails the test where a response breaks its method's schemas in the daemon's document.
    private func check(_ response: JSONValue) {
        guard let id = response["id"], let request = unanswered[id.jsonText] else { return }
        let (problems, final) = Documented.shared.problems(
            socket: socket, method: request.method, params: request.params, response: response)
        if final { unanswered[id.jsonText] = nil }
        if !problems.isEmpty {
            XCTFail("the document does not allow \(response.jsonText.prefix(300)): \(problems.prefix(5))")
        }
    }

    func send(_ bytes: [UInt8]) throws { try sendAll(bytes, to: fd) }

    /// A line with descriptors attached to its first byte (SCM_RIGHTS).
    func send(_ text: String, fds: [Int32]) throws {
        remember(text)
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { raw in
            fds.withUnsafeBufferPointer {
                clinux_send_with_fds(fd, raw.baseAddress, raw.count, $0.baseAddress, Int32($0.count))
            }
        }
        guard n == bytes.count else { throw Failure("sendmsg: \(n), \(String(cString: strerror(errno)))") }
    }

    /// The next line, or nil at end of stream.
    func readLine() throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { UnixSocket.receive(fd, into: $0, fds: &receivedFDs).count }
            if n == 0 { return nil }
            guard n > 0 else { throw Failure("read: \(String(cString: strerror(errno)))") }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    func readMessage() throws -> JSONValue {
        guard let line = try readLine() else { throw Failure("connection closed") }
        let message = try JSONParser.parse(line)
        if case .array(let batch) = message { batch.forEach(check) } else { check(message) }
        return message
    }

    /// Sends a request and returns its whole response object.
    func request(_ method: String, _ params: JSONValue? = nil) throws -> JSONValue {
        let id = nextID
        nextID += 1
        var message: JSONObject = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method)]
        if let params { message["params"] = params }
        try send(JSONValue.object(message).jsonText + "\n")
        return try readMessage()
    }

    /// The result, or the error thrown as RPCError.
    func call(_ method: String, _ params: JSONValue? = nil) throws -> JSONValue {
        let response = try request(method, params)
        if let error = response["error"] {
            guard case .int(let code)? = error["code"], case .string(let message)? = error["message"] else {
                throw Failure("bad error \(error)")
            }
            throw RPCError(code: Int(code), message: message, data: error["data"])
        }
        return response["result"] ?? .null
    }

    /// The error code of a call that must fail.
    func errorCode(_ method: String, _ params: JSONValue? = nil) throws -> Int {
        let response = try request(method, params)
        guard case .int(let code)? = response["error"]?["code"] else {
            throw Failure("expected an error, got \(response.jsonText)")
        }
        return Int(code)
    }
}

/// Sends all of `bytes` on a blocking socket, waiting while it is full.
func sendAll(_ bytes: [UInt8], to fd: Int32) throws {
    var sent = 0
    while sent < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw Failure("send: \(String(cString: strerror(errno)))") }
        sent += n
    }
}

/// Runs a program to its end: its exit status and what it wrote (standard output and error together).
func runToEnd(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (
    status: Int32, output: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}

/// The open descriptors of a process.
func openFDs(_ pid: Int32) throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
}

/// The process's open descriptors once they reach `expected` (or after 60 s).
func settled(_ pid: Int32, at expected: Int) throws -> Int {
    let deadline = Date().addingTimeInterval(60)
    while try openFDs(pid) != expected && Date() < deadline { usleep(20_000) }
    return try openFDs(pid)
}
