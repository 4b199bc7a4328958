import BindingRuntime
import CLinux
import Foundation
import Wire

/// A blocking client of the fuzzer: one request at a time, its messages read to the last one (a
/// stream's included), descriptors sent beside it and kept when they come back.
final class RPCSession {
    private let fd: Int32
    private var framer = LineFramer(maxLineBytes: 256 << 20)
    private var nextID: Int64 = 0
    var receivedFDs: [Int32] = []

    init(socket: String) throws {
        fd = try UnixSocket.connect(socket)
        var timeout = timeval(tv_sec: 60, tv_usec: 0)  // a call with no answer in a minute is a finding
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        receivedFDs.forEach { close($0) }
    }

    /// A call's result; its error thrown.
    func result(_ method: String, _ params: JSONValue) throws -> JSONValue {
        let answers = try call(method, params)
        guard let last = answers.last, let result = last["result"] else {
            throw FuzzFailure("\(method): \(answers.last?.jsonText ?? "nothing")")
        }
        return result
    }

    /// Every message of the call, the answer last. A stream longer than a few thousand messages is
    /// stopped with `abortWith` (a generation the parameters let run on).
    func call(_ method: String, _ params: JSONValue, fds: [Int32] = [], abortWith abort: String? = nil) throws
        -> [JSONValue]
    {
        nextID += 1
        let id = nextID
        let line =
            Array(
                JSONValue.object(["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params])
                    .jsonText.utf8) + [0x0A]
        let sent = line.withUnsafeBytes { raw in
            fds.withUnsafeBufferPointer {
                clinux_send_with_fds(fd, raw.baseAddress, raw.count, $0.baseAddress, Int32($0.count))
            }
        }
        guard sent == line.count else { throw FuzzFailure("send: \(String(cString: strerror(errno)))") }
        var messages: [JSONValue] = []
        var aborted = false
        while true {
            let message = try nextMessage()
            guard message["id"] == .int(id) else { continue }  // an abort's answer
            messages.append(message)
            if Self.isLast(message) { return messages }
            if messages.count > 4000, !aborted, let abort, case .array(let items) = params, let handle = items.first {
                aborted = true
                try sendLine(#"{"jsonrpc":"2.0","id":"abort","method":"\#(abort)","params":[\#(handle.jsonText)]}"#)
            }
        }
    }

    /// An error, or a result that is neither a stream message nor a queue position.
    private static func isLast(_ message: JSONValue) -> Bool {
        guard let result = message["result"] else { return true }
        if result[StreamMember.queuePosition] != nil { return false }
        return result[StreamMember.callbackState] != 0 && result[StreamMember.callbackState] != 1
    }

    private func sendLine(_ text: String) throws {
        let bytes = Array(text.utf8) + [0x0A]
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw FuzzFailure("send: \(String(cString: strerror(errno)))")
        }
    }

    private var ready: [JSONValue] = []

    private func nextMessage() throws -> JSONValue {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while ready.isEmpty {
            var fds: [Int32] = []
            let (n, _) = UnixSocket.receive(fd, into: buffer, fds: &fds)
            receivedFDs += fds
            guard n > 0 else {
                throw FuzzFailure(n == 0 ? "the daemon closed the connection" : "no answer within 60 s")
            }
            var failure: (any Error)?
            framer.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) { event in
                guard case .line(let line) = event else { return }
                do { ready.append(try JSONParser.parse(line)) } catch { failure = error }
            }
            if let failure { throw FuzzFailure("the daemon wrote invalid JSON: \(failure)") }
        }
        return ready.removeFirst()
    }
}

/// The daemon built beside the fuzzer, on the simulated runtimes (`rkllmLibrary`: the RKLLM one of
/// either ABI), on a socket of its own.
final class FuzzedDaemon {
    let socket = "/tmp/rkllm-fuzz-methods-\(getpid()).sock"
    private let process = Process()
    private let log = URL(fileURLWithPath: "/tmp/rkllm-fuzz-methods-\(getpid()).log")

    init(rkllmLibrary: String) throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appending(path: "models").path
        process.executableURL = directory.appending(path: "rkllm-server")
        process.arguments = [
            "--socket", socket, "--log-level", "1", "--run-timeout", "20", "--keep-alive", "0", "--http", "127.0.0.1:0",
            "--model-dirs", models, "--cache-dir", "/tmp/rkllm-fuzz-methods-\(getpid())-cache",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["RKLLM_RUNTIME_LIB"] = directory.appending(path: rkllmLibrary).path
        environment["RKNN_RUNTIME_LIB"] = directory.appending(path: "librknnrt_sim.so").path
        environment["RKLLM_SIM_TOKEN_US"] = "0"
        environment["RKLLM_SIM_PREFILL_US"] = "0"
        environment["RKLLM_SIM_LOAD_MS"] = "0"
        environment["RKNN_SIM_RUN_MS"] = "0"
        environment["RKLLM_SIM_DOMAIN_DIR"] = "/tmp/rkllm-fuzz-methods-\(getpid())-domains"
        try? FileManager.default.createDirectory(
            atPath: "/tmp/rkllm-fuzz-methods-\(getpid())-domains", withIntermediateDirectories: true)
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let session = try? RPCSession(socket: socket), (try? session.result("server.ping", .array([]))) == "pong"
            {
                return
            }
            usleep(20_000)
        }
        throw FuzzFailure("the daemon did not start: \(logTail)")
    }

    var isRunning: Bool { process.isRunning }

    /// The port of the daemon's HTTP front, from its log.
    var httpPort: UInt16? { LoopbackTCP.httpPort(inLog: (try? String(contentsOf: log, encoding: .utf8)) ?? "") }

    var logTail: String { String(((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(3000)) }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        for path in [
            log.path, "/tmp/rkllm-fuzz-methods-\(getpid())-domains", "/tmp/rkllm-fuzz-methods-\(getpid())-cache",
        ] {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
