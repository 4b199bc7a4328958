import BindingRuntime
import Foundation
import XCTest

/// The hostile-client suite's witness: a client holding a model and an RKNN context made before an
/// attack, and what the daemon held then. After the attack (and the attackers' hang-up),
/// `assertUnharmed` checks that the model answers exactly as a fresh one does, the context still
/// runs, and the daemon's descriptors and runtime host processes are back where they were and its
/// memory near it (the allocator may keep a little).
final class Bystander {
    /// A daemon on both simulated runtimes, at full speed.
    static func daemon(arguments: [String] = [], environment: [String: String] = [:]) throws -> Daemon {
        var all = [
            "RKLLM_RUNTIME_LIB": Built.simulatedRuntime, "RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so"),
            "RKLLM_SIM_TOKEN_US": "0", "RKLLM_SIM_PREFILL_US": "0", "RKLLM_SIM_LOAD_MS": "0",
        ]
        all.merge(environment) { $1 }
        return try Daemon(arguments: arguments, environment: all)
    }

    let client: Client
    let model: JSONValue
    let context: JSONValue
    private let daemon: Daemon
    private let descriptors: Int
    private let hosts: Int
    private let residentKiB: Int
    /// The daemon's resident memory when the witness was made.
    var residentKiBAtStart: Int { residentKiB }

    init(_ daemon: Daemon) throws {
        self.daemon = daemon
        client = try Client(daemon.socket)
        model = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"])
        context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        descriptors = try openFDs(daemon.process.processIdentifier)
        hosts = try Self.hosts(of: daemon)
        residentKiB = daemon.residentKiB
        try assertWorks()
    }

    private static func hosts(of daemon: Daemon) throws -> Int {
        try runtimeHostPIDs(with: [String(daemon.process.processIdentifier)]).count
    }

    /// Its model and context do what they did before the attack.
    func assertWorks(file: StaticString = #filePath, line: UInt = #line) throws {
        let input: JSONValue = [
            ["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]
        ]
        XCTAssertEqual(try client.call("rknn.inputs_set", [context, input]), .object([:]), file: file, line: line)
        XCTAssertEqual(try client.call("rknn.run", [context]), .object([:]), file: file, line: line)
        XCTAssertEqual(
            try client.stream("rkllm.run", [model, RKLLMTests.prompt("hello world")]).text, RKLLMTests.helloReply,
            "its model answers as a fresh one", file: file, line: line)
    }

    /// After the attackers hung up: it works, and the daemon holds what it held before.
    func assertUnharmed(file: StaticString = #filePath, line: UInt = #line) throws {
        try assertWorks(file: file, line: line)
        let pid = daemon.process.processIdentifier
        XCTAssertEqual(
            try settled(pid, at: descriptors), descriptors, "the daemon's descriptors", file: file, line: line)
        let deadline = Date().addingTimeInterval(60)
        while try Self.hosts(of: daemon) != hosts && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(try Self.hosts(of: daemon), hosts, "runtime host processes", file: file, line: line)
        if !Built.sanitized {
            XCTAssertLessThan(daemon.residentKiB, residentKiB + 32 << 10, "the daemon's memory", file: file, line: line)
        }
        XCTAssertEqual(try client.call("server.stats")["runtimes"]?["rknn"]?["crashes"], 0, file: file, line: line)
        XCTAssertEqual(try client.call("server.stats")["runtimes"]?["rkllm"]?["crashes"], 0, file: file, line: line)
    }
}
