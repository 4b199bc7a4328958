import BindingRuntime
import CLinux
import Foundation
import XCTest

/// The generated table hosted in runtime host processes, over the stand-in runtime
/// `libfaultrt.so` (Tests/Support/FaultRuntime), which fails, hangs and crashes on demand.
final class RuntimeHostTests: XCTestCase {
    private var daemon: Daemon!

    override func setUpWithError() throws {
        daemon = try Daemon(arguments: ["--run-timeout", "3"], environment: ["RKLLM_RUNTIME_LIB": Built.faultRuntime])
    }

    override func tearDown() {
        daemon.assertStopsCleanly()
        XCTAssertFalse(daemon.log.contains("leftover"), daemon.log)
        daemon = nil
    }

    private func prompt(_ text: String) -> JSONValue {
        ["input_type": "RKLLM_INPUT_PROMPT", "prompt_input": .string(text)]
    }

    private func stats(_ client: Client) throws -> JSONValue {
        try client.call("server.stats")["runtimes"]?["rkllm"] ?? .null
    }

    func testADestroyNoClientWaitsForThatFailsIsLoggedAndCounted() throws {
        let client = try Client(daemon.socket)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "stuck"]])["handle"])
        // A shared model: the caller's reference goes at once; the runtime's destroy comes after
        // (the keep-alive is 0 here), and its failure must not be lost.
        XCTAssertEqual(try client.call("rkllm.destroy", [handle]), .object([:]))
        let deadline = Date().addingTimeInterval(60)
        while try stats(client)["destroy_failures"] != 1 && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(try stats(client)["destroy_failures"], 1)
        XCTAssertTrue(daemon.log.contains("rkllm.destroy failed: rkllm_destroy returned -6"), daemon.log)
    }

    func testCallsStreamAndAnswerInBothParameterForms() throws {
        let client = try Client(daemon.socket)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        try client.send(
            #"{"jsonrpc":"2.0","id":"run","method":"rkllm.run","params":{"handle":\#(handle.jsonText),"rkllm_input":{"prompt_input":"one two"},"userdata":{"k":1}}}"#
                + "\n")
        var texts: [JSONValue] = []
        var states: [JSONValue] = []
        while true {
            let message = try client.readMessage()
            XCTAssertEqual(message["id"], "run")
            let result = try XCTUnwrap(message["result"], message.jsonText)
            texts.append(result["text"] ?? .null)
            states.append(result["_callback_state"] ?? .null)
            XCTAssertEqual(result["userdata"], ["k": 1], "userdata echoed")
            if result["_callback_state"] == 2 { break }  // the finish is the run's answer
        }
        XCTAssertEqual(texts, ["one", "two", nil])
        XCTAssertEqual(states, [0, 0, 2])
        XCTAssertEqual(try client.call("rkllm.is_running", [handle]), ["return": 0])
        XCTAssertEqual(
            try client.call("rkllm.is_running", .object(["handle": nil])), ["return": 0], "null: my one model")
        XCTAssertEqual(try client.call("rkllm.destroy", .object(["handle": handle])), .object([:]))
        XCTAssertEqual(try client.errorCode("rkllm.is_running", [handle]), RPCError.Code.unknownHandle)
    }

    func testRuntimeErrorsMissingSymbolsAndBadParams() throws {
        let client = try Client(daemon.socket)
        let initError = try client.request("rkllm.init", [["model_path": "missing"]])
        XCTAssertEqual(initError["error"]?["code"], .int(Int64(RPCError.Code.runtimeError)))
        XCTAssertEqual(initError["error"]?["data"]?["code"], -3)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        let runError = try client.request("rkllm.run", [handle, prompt("fail")])
        XCTAssertEqual(runError["error"]?["data"]?["code"], -7)
        let notPresent = try client.request("rkllm.load_lora", [handle, ["lora_adapter_path": "x"]])
        XCTAssertEqual(notPresent["error"]?["code"], .int(Int64(RPCError.Code.functionNotPresent)))
        XCTAssertEqual(notPresent["error"]?["data"]?["symbol"], "rkllm_load_lora")
        let badParam = try client.request("rkllm.init", [["max_context_len": "long"]])
        XCTAssertEqual(badParam["error"]?["code"], -32602)
        XCTAssertEqual(badParam["error"]?["data"]?["param"], "param.max_context_len")
        let info = try client.call("server.info")["runtimes"]
        guard case .array(let runtimes)? = info else { return XCTFail() }
        XCTAssertEqual(runtimes[0]["available"], true)
        XCTAssertEqual(runtimes[0]["library"], .string(Built.faultRuntime))
        guard case .array(let missing)? = runtimes[0]["not_present"] else { return XCTFail() }
        XCTAssertTrue(missing.contains("rkllm_load_lora"))
        _ = try client.call("rkllm.destroy", [handle])
    }

    func testHandlesBelongToTheirConnection() throws {
        let owner = try Client(daemon.socket)
        let other = try Client(daemon.socket)
        let handle = try XCTUnwrap(try owner.call("rkllm.init", [["model_path": "demo"]])["handle"])
        XCTAssertEqual(try other.errorCode("rkllm.is_running", [handle]), RPCError.Code.unknownHandle)
        XCTAssertEqual(try other.errorCode("rkllm.destroy", [handle]), RPCError.Code.unknownHandle)
        XCTAssertEqual(try other.errorCode("rkllm.is_running", ["not a handle"]), RPCError.Code.unknownHandle)
        XCTAssertEqual(try owner.call("rkllm.is_running", [handle]), ["return": 0])
        // A client that goes takes its handles (and their runtime host) with it.
        XCTAssertEqual(try stats(other)["handles"], 1)
        XCTAssertEqual(try stats(other)["hosts_running"], 1)
        _ = owner
        var gone = false
        do {
            let leaving = try Client(daemon.socket)
            _ = try leaving.call("rkllm.init", [["model_path": "demo"]])
            XCTAssertEqual(try stats(other)["handles"], 2)
        }
        let deadline = Date().addingTimeInterval(60)
        while !gone && Date() < deadline {
            gone = try stats(other)["handles"] == 1 && stats(other)["hosts_running"] == 1
            usleep(20_000)
        }
        let final = try stats(other)
        XCTAssertTrue(gone, "\(final)")
    }

    func testACrashFailsOnlyThatRuntimesCallsAndHandles() throws {
        let client = try Client(daemon.socket)
        let doomed = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        let survivor = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "other"]])["handle"])
        let crash = try client.request("rkllm.run", [doomed, prompt("crash")])
        XCTAssertEqual(crash["error"]?["code"], .int(Int64(RPCError.Code.runtimeCrashed)))
        XCTAssertEqual(crash["error"]?["data"]?["signal"], "SIGSEGV")
        let after = try client.request("rkllm.is_running", [doomed])
        XCTAssertEqual(after["error"]?["data"]?["signal"], "SIGSEGV", "its handles answer the same error")
        XCTAssertEqual(try client.call("rkllm.is_running", [survivor]), ["return": 0], "the other model is served")
        XCTAssertEqual(try stats(client)["crashes"], 1)
        XCTAssertEqual(try client.errorCode("rkllm.destroy", [doomed]), RPCError.Code.runtimeCrashed)
        XCTAssertEqual(
            try client.errorCode("rkllm.destroy", [doomed]), RPCError.Code.unknownHandle, "destroy forgets it")
        let abort = try client.request("rkllm.run", [survivor, prompt("abort")])
        XCTAssertEqual(abort["error"]?["data"]?["signal"], "SIGABRT")
        // The next creating call starts a fresh runtime host.
        let fresh = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        XCTAssertEqual(try client.call("rkllm.is_running", [fresh]), ["return": 0])
        XCTAssertTrue(daemon.log.contains("died: the rkllm runtime crashed: SIGSEGV"))
    }

    func testAStalledRunIsKilledAfterTheRunTimeoutAndOthersAreServed() throws {
        let client = try Client(daemon.socket)
        let other = try Client(daemon.socket)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        try client.send(
            #"{"jsonrpc":"2.0","id":"h","method":"rkllm.run","params":[\#(handle.jsonText),{"prompt_input":"hang"}]}"#
                + "\n")
        XCTAssertEqual(try other.call("server.ping"), "pong", "the loop is free while a run hangs")
        let started = Date()
        let reply = try client.readMessage()
        XCTAssertEqual(reply["id"], "h")
        XCTAssertEqual(reply["error"]?["code"], .int(Int64(RPCError.Code.runtimeCrashed)))
        XCTAssertEqual(reply["error"]?["data"]?["signal"], "SIGKILL")
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "killed after the 3 s run timeout, not left hanging")
    }

    /// A client whose run (id "h") hangs in its runtime host, once the call is there (an event, not
    /// a guess at how long that takes), and a second client to watch with.
    private func hangingRun(on daemon: Daemon) throws -> (client: Client, watcher: Client) {
        let client = try Client(daemon.socket)
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo"]])["handle"])
        try client.send(
            #"{"jsonrpc":"2.0","id":"h","method":"rkllm.run","params":[\#(handle.jsonText),{"prompt_input":"hang"}]}"#
                + "\n")
        let watcher = try Client(daemon.socket)
        let deadline = Date().addingTimeInterval(60)
        while try stats(watcher)["calls_in_flight"] != 1 && Date() < deadline { usleep(5_000) }
        return (client, watcher)
    }

    func testEverySignalAServiceGetsIsHandledAndSIGQUITShutsDownGracefully() throws {
        let served = try Daemon(environment: ["RKLLM_RUNTIME_LIB": Built.faultRuntime])
        let (client, watcher) = try hangingRun(on: served)
        let deadline = Date().addingTimeInterval(60)
        let survivable: [(Int32, String)] = [
            (SIGHUP, "SIGHUP"), (SIGUSR1, "SIGUSR1"), (SIGUSR2, "SIGUSR2"), (SIGALRM, "SIGALRM"),
            (SIGVTALRM, "SIGVTALRM"), (SIGPROF, "SIGPROF"), (SIGIO, "SIGIO"), (SIGPWR, "SIGPWR"),
            (SIGXCPU, "SIGXCPU"), (SIGPIPE, "SIGPIPE"), (SIGXFSZ, "SIGXFSZ"),
        ]
        for (signal, _) in survivable { kill(served.process.processIdentifier, signal) }
        // Each one read and logged (SIGPIPE and SIGXFSZ are ignored outright), the daemon still serving.
        let logged = survivable.map(\.1).filter { $0 != "SIGPIPE" && $0 != "SIGXFSZ" }
        while !logged.allSatisfy({ served.log.contains("\($0) from pid") }) && Date() < deadline { usleep(10_000) }
        for name in logged { XCTAssertTrue(served.log.contains("\(name) from pid"), "\(name): \(served.log)") }
        XCTAssertTrue(served.log.contains("SIGHUP from pid \(getpid()): nothing to reload"))
        XCTAssertTrue(served.log.contains("SIGUSR1 from pid \(getpid()): {\"open\":"), served.log)
        XCTAssertEqual(try watcher.call("server.ping"), "pong")
        XCTAssertEqual(try stats(watcher)["calls_in_flight"], 1, "the running call is untouched")
        // SIGQUIT: the graceful shutdown, as SIGTERM.
        kill(served.process.processIdentifier, SIGQUIT)
        let reply = try client.readMessage()
        XCTAssertEqual(reply["id"], "h")
        XCTAssertEqual(reply["error"]?["code"], .int(Int64(RPCError.Code.shuttingDown)))
        XCTAssertEqual(served.waitForExit(), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: served.socket), "the socket is removed")
        XCTAssertTrue(served.log.contains("shutting down (SIGQUIT from pid"))
    }

    func testSIGTERMAnswersARunningCallWithTheShutdownError() throws {
        let (client, _) = try hangingRun(on: daemon)
        kill(daemon.process.processIdentifier, SIGTERM)
        let reply = try client.readMessage()
        XCTAssertEqual(reply["id"], "h")
        XCTAssertEqual(reply["error"]?["code"], .int(Int64(RPCError.Code.shuttingDown)))
        XCTAssertEqual(daemon.waitForExit(), 0)
        daemon = try Daemon(environment: ["RKLLM_RUNTIME_LIB": Built.faultRuntime])
    }

    func testRuntimeHostsDieWithTheDaemon() throws {
        let client = try Client(daemon.socket)
        _ = try client.call("rkllm.init", [["model_path": "demo"]])
        let hosts = try hostPIDs()
        XCTAssertEqual(hosts.count, 1)
        kill(daemon.process.processIdentifier, SIGKILL)
        _ = daemon.waitForExit()
        let deadline = Date().addingTimeInterval(60)
        while try !hostPIDs().isEmpty && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(try hostPIDs(), [], "PR_SET_PDEATHSIG")
        daemon = try Daemon(environment: ["RKLLM_RUNTIME_LIB": Built.faultRuntime])
    }

    /// Runtime host processes of this test's daemon (its pid is in their arguments: tests run in parallel).
    private func hostPIDs() throws -> [Int32] {
        try runtimeHostPIDs(with: [Built.faultRuntime, String(daemon.process.processIdentifier)])
    }
}

/// File descriptors from a client, through the daemon, to the runtime host (SCM_RIGHTS both hops).
final class DescriptorPassingTests: XCTestCase {
    func testADescriptorSentWithARequestReachesTheRuntime() throws {
        let daemon = try Daemon(environment: ["RKNN_RUNTIME_LIB": Built.faultRuntime])
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", ["model": ["path": "m.rknn"], "flag": 0])["context"])
        // A memfd whose first bytes the runtime reads back through its own mapping.
        let memory = clinux_sealable_memfd("frame")
        XCTAssertGreaterThanOrEqual(memory, 0)
        var header: UInt32 = 0xC0FFEE
        XCTAssertEqual(write(memory, &header, 4), 4)
        XCTAssertEqual(ftruncate(memory, 4096), 0)
        let request =
            #"{"jsonrpc":"2.0","id":1,"method":"rknn.create_mem_from_fd","params":{"ctx":\#(context.jsonText),"fd":0,"size":4096,"offset":0}}"#
        try client.send(request + "\n", fds: [memory])
        close(memory)  // the daemon and the runtime hold their own copies
        let reply = try client.readMessage()
        let mem = try XCTUnwrap(reply["result"], reply.jsonText)
        XCTAssertEqual(mem["pointee"]?["flags"], .int(0xC0FFEE), "the runtime read the client's memory")
        XCTAssertEqual(mem["pointee"]?["size"], 4096)
        let handle = try XCTUnwrap(mem["return"])
        XCTAssertEqual(try client.call("rknn.destroy_mem", [context, handle]), .object([:]))
        XCTAssertEqual(try client.errorCode("rknn.destroy_mem", [context, handle]), RPCError.Code.unknownHandle)
        // Without the descriptor: a clear parameter error, and the daemon keeps serving.
        let missing = try client.request(
            "rknn.create_mem_from_fd", ["ctx": context, "fd": 0, "size": 4096, "offset": 0])
        XCTAssertEqual(missing["error"]?["code"], -32602)
        XCTAssertEqual(missing["error"]?["data"]?["param"], "fd")
        XCTAssertEqual(try client.call("rknn.destroy", [context]), .object([:]))
        daemon.assertStopsCleanly()
    }

    func testTheRuntimesBufferComesBackWithTheAnswer() throws {
        let daemon = try Daemon(environment: ["RKNN_RUNTIME_LIB": Built.faultRuntime])
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", ["model": ["path": "m.rknn"], "flag": 0])["context"])
        let mem = try client.call("rknn.create_mem", [context, 8192])
        XCTAssertEqual(mem["pointee"]?["fd"], 0, "the JSON names the first descriptor of the answer")
        XCTAssertEqual(client.receivedFDs.count, 1)
        let fd = client.receivedFDs.removeFirst()
        defer { close(fd) }
        // The client maps the runtime's buffer: no copy on the way.
        let mapped = try XCTUnwrap(mmap(nil, 8192, PROT_READ, MAP_SHARED, fd, 0))
        XCTAssertNotEqual(mapped, MAP_FAILED)
        let bytes = UnsafeRawBufferPointer(start: mapped, count: 8192)
        XCTAssertEqual(Array(bytes), (0..<8192).map { UInt8($0 % 251) })
        munmap(mapped, 8192)
        XCTAssertEqual(try client.call("rknn.destroy_mem", [context, try XCTUnwrap(mem["return"])]), .object([:]))
        daemon.assertStopsCleanly()
    }
}
