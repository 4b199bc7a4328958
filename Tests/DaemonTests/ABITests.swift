import BindingRuntime
import Foundation
import XCTest

/// A runtime library is called only with the table of its own ABI: its version is read from its file
/// (the simulated RKLLM runtime carries it as the vendor's does), a setting may say it instead, and
/// a library of another version is refused at load with both versions named, never called.
final class ABITests: XCTestCase {
    /// A copy of the simulated runtime whose file says it is RKLLM `version` (its code still 1.2's).
    private func runtime(claiming version: String) throws -> String {
        let original = try Data(contentsOf: URL(fileURLWithPath: Built.simulatedRuntime))
        let marker = Data("rkllm-runtime version: 1.2.3".utf8)
        let range = try XCTUnwrap(original.range(of: marker), "the simulated runtime carries its version")
        var patched = original
        patched.replaceSubrange(range, with: Data("rkllm-runtime version: \(version)".utf8))
        let path = NSTemporaryDirectory() + "librkllmrt-claims-\(version)-\(getpid()).so"
        try patched.write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func rkllmInfo(_ client: Client) throws -> JSONValue {
        guard case .array(let runtimes)? = try client.call("server.info")["runtimes"] else {
            throw Failure("no runtimes")
        }
        return try XCTUnwrap(runtimes.first { $0["namespace"] == "rkllm" })
    }

    func testTheLibrarysVersionIsReadFromItsFileAndShown() throws {
        let daemon = try Daemon(environment: ["RKLLM_RUNTIME_LIB": Built.simulatedRuntime])
        defer { daemon.assertStopsCleanly() }
        let info = try rkllmInfo(try Client(daemon.socket))
        XCTAssertEqual(info["abi"], "1.2.3")
        XCTAssertEqual(info["library_version"], "1.2.3")
        XCTAssertEqual(info["available"], true)
    }

    func testALibraryOfAnotherVersionIsRefusedWithBothVersionsNamed() throws {
        // The simulated runtime's 1.3.0 build: its structs are 1.3.0's, and it is never called.
        let daemon = try Daemon(environment: ["RKLLM_RUNTIME_LIB": Built.path("librkllmrt_sim-1.3.so")])
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        let info = try rkllmInfo(client)
        XCTAssertEqual(info["available"], false)
        guard case .string(let reason)? = info["reason"] else { return XCTFail("no reason: \(info)") }
        XCTAssertTrue(reason.contains("1.3.0") && reason.contains("1.2.3"), reason)
        let refused = try client.request("rkllm.init", [["model_path": "demo.rkllm"]])
        XCTAssertEqual(refused["error"]?["code"], .int(Int64(RPCError.Code.runtimeNotAvailable)))
        XCTAssertEqual(try client.call("rknn.get_constants")["RKNN_SUCC"], 0, "the other runtime is unaffected")
    }

    func testTheSettingSaysTheVersionWhenTheFileIsWrongOrSilent() throws {
        let daemon = try Daemon(
            arguments: ["--rkllm-abi", "1.2.3"], environment: ["RKLLM_RUNTIME_LIB": try runtime(claiming: "1.3.0")])
        defer { daemon.assertStopsCleanly() }
        let client = try Client(daemon.socket)
        XCTAssertEqual(try rkllmInfo(client)["library_version"], "1.2.3")
        let handle = try XCTUnwrap(try client.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"])
        XCTAssertEqual(try client.call("rkllm.destroy", [handle]), .object([:]))

        // A library whose file holds no version: taken for the table's, and the log says so.
        let silent = try Daemon(environment: ["RKLLM_RUNTIME_LIB": Built.faultRuntime])
        defer { silent.assertStopsCleanly() }
        XCTAssertEqual(try rkllmInfo(try Client(silent.socket))["available"], true)
        XCTAssertTrue(silent.log.contains("is not in its file: taken for 1.2.3"), silent.log)
    }
}
