import BindingRuntime
import Foundation
import XCTest

/// Each client's RKNN contexts live in a runtime host of its own: an input that crashes the runtime
/// takes only that client's work. The shared host (a setting, for boards short of memory) is the
/// single point of failure it always was.
final class HostIsolationTests: XCTestCase {
    private let input: JSONValue = [
        ["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]
    ]

    /// The attacker's second run crashes its host (RKNN_SIM_CRASH_AT_RUN=2 in every host); the
    /// bystander's context, made before, is then asked to run. `arguments`: the daemon's settings.
    private func crashBesideABystander(_ arguments: [String]) throws -> (bystander: JSONValue, crash: JSONValue) {
        let daemon = try Daemon(
            arguments: arguments,
            environment: ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so"), "RKNN_SIM_CRASH_AT_RUN": "2"])
        defer { daemon.assertStopsCleanly() }
        let bystander = try Client(daemon.socket)
        let theirs = try XCTUnwrap(try bystander.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        _ = try bystander.call("rknn.inputs_set", [theirs, input])
        let attacker = try Client(daemon.socket)
        let mine = try XCTUnwrap(try attacker.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        _ = try attacker.call("rknn.inputs_set", [mine, input])
        _ = try attacker.request("rknn.run", [mine])
        let crash = try attacker.request("rknn.run", [mine])
        return (try bystander.request("rknn.run", [theirs]), crash)
    }

    func testARuntimeCrashOneClientCausesTakesOnlyItsOwnWork() throws {
        let own = try crashBesideABystander([])
        XCTAssertEqual(own.crash["error"]?["code"], .int(Int64(RPCError.Code.runtimeCrashed)))
        XCTAssertEqual(own.bystander["result"], .object([:]), "the bystander's host never crashed")

        let shared = try crashBesideABystander(["--rknn-shared-host", "1"])
        XCTAssertEqual(shared.crash["error"]?["code"], .int(Int64(RPCError.Code.runtimeCrashed)))
        XCTAssertEqual(
            shared.bystander["error"]?["code"], .int(Int64(RPCError.Code.runtimeCrashed)),
            "one host: everyone's contexts go")
    }
}
