import BindingRuntime
import Foundation
import RKLLMBindings_1_2_3
import XCTest

/// The generated table called in process against librkllmrt_sim.so: what only an in-process
/// caller sees (the callback's thread, its return value pausing a run, KV ranges while paused).
final class SimulatedRuntimeTests: XCTestCase {
    private static let library = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appending(path: "librkllmrt_sim.so").path
    private static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "models/demo.rkllm").path
    private static let reply = "Hello from the demo model, ça va? 你好: world hello."

    private var runtime: RuntimeLibrary!
    private var host: InProcessHost!
    private var handle: JSONValue!

    override func setUpWithError() throws {
        setenv("RKLLM_SIM_TOKEN_US", "0", 1)
        setenv("RKLLM_SIM_LOAD_MS", "0", 1)
        // NPU-domain locks of this process's own: another test run beside it takes the same domains.
        setenv("RKLLM_SIM_DOMAIN_DIR", Self.domains, 1)
        runtime = try RuntimeLibrary(path: Self.library, entries: DispatchTable.entries)
        host = InProcessHost()
        handle = try call("rkllm.init", [["model_path": .string(Self.model)]])["handle"]
    }

    override func tearDownWithError() throws {
        if let handle { _ = try call("rkllm.destroy", [handle]) }
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: domains)
        super.tearDown()
    }

    private static let domains: String = {
        let path = NSTemporaryDirectory() + "rkllm-sim-domains-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    private func call(_ method: String, _ params: JSONValue) throws -> JSONValue {
        try runtime.call(DispatchTable.byMethod[method]!, params: params, host: host)
    }

    private func prompt(_ text: String) -> JSONValue {
        ["input_type": "RKLLM_INPUT_PROMPT", "prompt_input": .string(text)]
    }

    func testRunCallsBackOnTheCallersThreadAndRunAsyncOnAThreadOfItsOwn() throws {
        _ = try call("rkllm.run", [handle, prompt("hello world")])
        XCTAssertEqual(host.sink.text, Self.reply)
        XCTAssertEqual(Set(host.sink.threads), [pthread_self()], "rkllm_run: on the caller's thread")
        host.sink.reset()
        _ = try call("rkllm.run_async", [handle, prompt("hello world")])
        XCTAssertEqual(host.sink.finished.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(host.sink.text, Self.reply)
        XCTAssertFalse(host.sink.threads.contains(pthread_self()), "rkllm_run_async: on the runtime's thread")
        XCTAssertEqual(Set(host.sink.threads).count, 1)
    }

    func testReturningOnePausesAndAnEmptyPromptResumesWhileRangesMayBeCleared() throws {
        host.sink.pauseAt = 3
        _ = try call("rkllm.run", [handle, prompt("hello world")])
        XCTAssertEqual(host.sink.text, "Hello from the", "paused after the third token, without a finish")
        XCTAssertEqual(host.sink.states.last, 0)
        XCTAssertEqual(try call("rkllm.is_running", [handle])["return"], 1)
        let size = try call("rkllm.get_kv_cache_size", [handle])["cache_sizes"]
        XCTAssertEqual(size, [52], "49 prefilled + 3 generated")
        XCTAssertEqual(
            try call("rkllm.clear_kv_cache", [handle, 0, [0], [10]]), .object([:]),
            "ranges: a paused run without history")
        XCTAssertEqual(try call("rkllm.get_kv_cache_size", [handle])["cache_sizes"], [42])
        XCTAssertThrowsError(try call("rkllm.clear_kv_cache", [handle, 0, [0], [100]]), "a range past the cache")
        host.sink.pauseAt = nil
        _ = try call("rkllm.run", [handle, prompt("")])
        XCTAssertEqual(host.sink.text, Self.reply, "resumed where it paused")
        XCTAssertEqual(host.sink.states.last, 2)
        XCTAssertThrowsError(try call("rkllm.clear_kv_cache", [handle, 0, [0], [1]]), "no paused run: no ranges") {
            error in
            XCTAssertEqual((error as? RPCError)?.data?["code"], -6)
        }
    }

    func testTheContextWindowShiftsKeepingNKeepAndEveryBatchHasACacheSize() throws {
        let small = try call(
            "rkllm.init",
            [
                [
                    "model_path": .string(Self.model), "max_context_len": 80, "n_keep": 24,
                    "extend_param": ["base_domain_id": 2, "n_batch": 2],
                ]
            ])["handle"]!
        defer { _ = try? call("rkllm.destroy", [small]) }
        let history: JSONValue = ["keep_history": 1]
        for turn in 1...3 {
            host.sink.reset()
            _ = try call("rkllm.run", [small, prompt("hello world"), history])
            XCTAssertEqual(host.sink.states.last, 2, "turn \(turn) finished")
            guard
                case .array(let sizes)? = try call("rkllm.get_kv_cache_size", ["handle": small, "n_batch": 2])[
                    "cache_sizes"],
                sizes.count == 2, case .int(let used) = sizes[0]
            else { return XCTFail("one size per batch") }
            XCTAssertEqual(sizes[0], sizes[1])
            XCTAssertLessThanOrEqual(used, 80, "the window shifted")
        }
        XCTAssertTrue(host.sink.text.contains("(turn 3)"), "the conversation went on through the shifts")
        let tooLong = Array(repeating: "hello", count: 100).joined(separator: " ")
        XCTAssertThrowsError(try call("rkllm.run", [small, prompt(tooLong)])) { error in
            XCTAssertEqual((error as? RPCError)?.data?["code"], -7, "a prompt longer than the window")
        }
    }

    func testTheChatTemplateIsWhatIsPrefilled() throws {
        _ = try call("rkllm.run", [handle, prompt("hello world")])
        let before = host.sink.perf?["prefill_tokens"]
        _ = try call("rkllm.set_chat_template", [handle, "", "", ""])
        host.sink.reset()
        _ = try call("rkllm.run", [handle, prompt("hello world")])
        XCTAssertEqual(before, 49)
        XCTAssertEqual(host.sink.perf?["prefill_tokens"], 2, "no system prompt, prefix or postfix: the two words")
    }

    func testTimestampsModeWritesTheCallbacksMonotonicTime() throws {
        setenv("RKLLM_SIM_TIMESTAMPS", "1", 1)
        defer { unsetenv("RKLLM_SIM_TIMESTAMPS") }
        let stamped = try call(
            "rkllm.init", [["model_path": .string(Self.model), "extend_param": ["base_domain_id": 3]]])["handle"]!
        defer { _ = try? call("rkllm.destroy", [stamped]) }
        var before = timespec()
        clock_gettime(CLOCK_MONOTONIC, &before)
        _ = try call("rkllm.run", [stamped, prompt("hello world")])
        var after = timespec()
        clock_gettime(CLOCK_MONOTONIC, &after)
        let nanos = { (t: timespec) in UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec) }
        let texts = host.sink.texts
        XCTAssertGreaterThan(texts.count, 10)
        for text in texts {
            let stamp = try XCTUnwrap(UInt64(text), text)
            XCTAssertTrue((nanos(before)...nanos(after)).contains(stamp))
        }
    }

    func testAbortStopsAnAsyncRunAtTheNextToken() throws {
        setenv("RKLLM_SIM_TOKEN_US", "20000", 1)
        let slow = try call(
            "rkllm.init", [["model_path": .string(Self.model), "extend_param": ["base_domain_id": 1]]])["handle"]!
        defer { _ = try? call("rkllm.destroy", [slow]) }
        // Aborted from the third token's callback: what follows does not depend on timing.
        host.sink.onMessage = { [unowned self] count in if count == 3 { _ = try? self.call("rkllm.abort", [slow]) } }
        _ = try call("rkllm.run_async", [slow, prompt("hello world")])
        XCTAssertEqual(try call("rkllm.is_running", [slow])["return"], 0)
        XCTAssertThrowsError(try call("rkllm.run", [slow, prompt("again")]), "one run at a time") { error in
            XCTAssertEqual((error as? RPCError)?.data?["code"], -4)
        }
        XCTAssertEqual(host.sink.finished.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(host.sink.states, [0, 0, 0, 2], "three tokens, then the finish: an aborted run still finishes")
        // An async run is idle before its final callback (documented): no wait needed after the finish.
        XCTAssertEqual(try call("rkllm.is_running", [slow])["return"], 1)
        // So the finish can start the next run at once, from the callback itself too.
        host.sink.reset()
        host.sink.onMessage = { [unowned self] _ in
            if host.sink.states.last == 2 && host.sink.states.count < 40 {
                _ = try? self.call("rkllm.run_async", [slow, prompt("hello world")])
            }
        }
        _ = try call("rkllm.run_async", [slow, prompt("hello world")])
        XCTAssertEqual(host.sink.finished.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(host.sink.finished.wait(timeout: .now() + 60), .success, "the run started from the finish ran")
        host.sink.onMessage = nil
    }
}

/// Handles in a dictionary, paths as given, one recording sink.
private final class InProcessHost: CallHost {
    let sink = RecordingSink()
    private var handles: [Int64: UInt64] = [:]

    func resolveHandle(_ id: JSONValue, type: String, path: String) throws -> UInt64 {
        guard case .int(let key) = id, let raw = handles[key] else {
            throw RPCError(code: RPCError.Code.unknownHandle, message: path)
        }
        return raw
    }
    func registerHandle(_ raw: UInt64, type: String) -> JSONValue {
        handles[Int64(handles.count + 1)] = raw
        return .int(Int64(handles.count))
    }
    func releaseHandle(_ id: JSONValue, type: String) {}
    func callbackContext(for callback: String, value: JSONValue) throws -> UnsafeMutableRawPointer? {
        sink.sink.userdata
    }
    func fileDescriptor(_ value: JSONValue, path: String) throws -> Int32 { throw RPCError.invalidParams(path, "none") }
    func exportFileDescriptor(_ fd: Int32) throws -> JSONValue { .null }
    func confinePath(_ value: String, kind: String, path: String) throws -> String { value }
    func plugin(library: String, symbol: String) throws -> UnsafeRawPointer {
        throw RPCError(code: RPCError.Code.notPermitted, message: library)
    }
}

/// What the callbacks brought, with the thread each came on; returns 1 (pause) at `pauseAt`.
private final class RecordingSink: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [(message: JSONObject, thread: pthread_t)] = []
    var pauseAt: Int?
    /// Called on the callback's thread with the number of messages so far.
    var onMessage: ((Int) -> Void)?
    let finished = DispatchSemaphore(value: 0)
    lazy var sink = CallbackSink { [unowned self] message, final in
        let count = lock.withLock { () -> Int in
            received.append((message, pthread_self()))
            return received.count
        }
        onMessage?(count)
        if final { finished.signal() }
        return count == pauseAt ? 1 : 0
    }

    /// Forgets what came, and the finishes not waited for.
    func reset() {
        lock.withLock { received = [] }
        while finished.wait(timeout: .now()) == .success {}
    }
    var texts: [String] {
        lock.withLock {
            received.compactMap { if case .string(let s)? = $0.message["text"] { return s } else { return nil } }
        }
    }
    var text: String { texts.joined() }
    var states: [JSONValue] { lock.withLock { received.compactMap { $0.message[StreamMember.callbackState] } } }
    var perf: JSONValue? { lock.withLock { received.last?.message["perf"] } }
    var threads: [pthread_t] { lock.withLock { received.map(\.thread) } }
}
