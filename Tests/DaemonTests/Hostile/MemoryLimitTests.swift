import BindingRuntime
import Foundation
import XCTest

/// Runtime hosts run under a memory limit (`--runtime-host-memory`, RLIMIT_DATA): a runaway runtime
/// gets allocation failures early instead of taking the machine's memory from everyone.
final class MemoryLimitTests: XCTestCase {
    func testARunawayRuntimeIsHeldAtItsHostsMemoryLimit() throws {
        let limit = 256 << 20
        let daemon = try Daemon(
            arguments: ["--runtime-host-memory", String(limit)], environment: ["RKLLM_RUNTIME_LIB": Built.faultRuntime])
        if daemon.log.contains("memory limit not applied: built with a sanitizer") {
            daemon.assertStopsCleanly()
            throw XCTSkip("a sanitizer's shadow memory counts against RLIMIT_DATA: the plain run tests the limit")
        }
        let bystander = try Client(daemon.socket)
        let theirs = try XCTUnwrap(try bystander.call("rkllm.init", [["model_path": "demo"]])["handle"])
        let attacker = try Client(daemon.socket)
        let mine = try XCTUnwrap(try attacker.call("rkllm.init", [["model_path": "demo"]])["handle"])
        let hosts = try runtimeHostPIDs(with: [Built.faultRuntime, String(daemon.process.processIdentifier)])
        // "grow" allocates 16 MiB at a time up to 4 GiB: the limit stops it at 256 MiB.
        let grown = try attacker.request(
            "rkllm.run", [mine, ["input_type": "RKLLM_INPUT_PROMPT", "prompt_input": "grow"]])
        XCTAssertEqual(grown["error"]?["code"], .int(Int64(RPCError.Code.runtimeError)), grown.jsonText)
        XCTAssertEqual(grown["error"]?["data"]?["code"], -12, "an allocation failed: the limit held")
        let peaks = try hosts.map { pid -> Int in
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) << 10
        }
        // (Resident memory also counts the code mapped from files, which the limit does not.)
        XCTAssertLessThanOrEqual(
            peaks.max() ?? 0, limit + 64 << 20, "no host ever held much more than its limit, far from 4 GiB")
        // The runtime freed what it took: its host goes on, and the bystander never noticed.
        for (client, handle) in [(attacker, mine), (bystander, theirs)] {
            let reply = try client.request(
                "rkllm.run", [handle, ["input_type": "RKLLM_INPUT_PROMPT", "prompt_input": "still here"]])
            XCTAssertEqual(reply["result"]?["text"], "still")
            XCTAssertEqual(try client.readMessage()["result"]?["text"], "here")
            XCTAssertEqual(try client.readMessage()["result"]?["_callback_state"], 2)
        }
        daemon.assertStopsCleanly()
    }
}
